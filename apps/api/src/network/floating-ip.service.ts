/**
 * Floating IPs under Neutron's policy: a project sees and changes its own, an admin all; only an admin
 * names the address. The address is allocated as a port on the external network first and then named
 * by FloatingIpCreated (the port is given back if that append fails); a deleted floating IP is
 * recorded first and its port deleted after. An association is resolved against the routers and the
 * other floating IPs as the read model has them, and points at a port the caller may see.
 */
import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import {
  type FloatingIpAssociation,
  type FloatingIpState,
  type NetworkState,
  decideAssociateFloatingIp,
  decideCreateFloatingIp,
  decideCreateFloatingIpPort,
  decideDeleteFloatingIp,
  decideDeleteFloatingIpPort,
  decideDisassociateFloatingIp,
  decideUpdateFloatingIp,
  floatingIpNotFound,
  floatingIpReducer,
  initialFloatingIp,
  resolveAssociation,
} from '#libs/domain';
import type { Decision, EventContext } from '#libs/event-store';

import { type Principal, isAdmin } from '../common/auth/principal.js';
import { NetworkDirectory } from './network-directory.js';
import { NetworkService, forbidden, randomMac } from './network.service.js';

export interface FloatingIpCreate {
  readonly floatingNetworkId: string;
  readonly floatingIpAddress?: string;
  readonly subnetId?: string;
  readonly portId?: string;
  readonly fixedIpAddress?: string;
  readonly description: string;
  readonly projectId?: string;
}

export interface FloatingIpUpdate {
  /** Undefined: unchanged; null: disassociated. */
  readonly portId?: string | null;
  readonly fixedIpAddress?: string;
  readonly description?: string;
}

@Injectable()
export class FloatingIpService {
  constructor(
    private readonly directory: NetworkDirectory,
    private readonly networks: NetworkService,
  ) {}

  floatingIps(principal: Principal): FloatingIpState[] {
    return this.directory
      .allFloatingIps()
      .filter((floatingIp) => this.networks.ownsOrAdmin(principal, floatingIp.projectId));
  }

  floatingIp(principal: Principal, id: string): FloatingIpState {
    const floatingIp = this.directory.floatingIp(id.toLowerCase());
    if (!floatingIp || !this.networks.ownsOrAdmin(principal, floatingIp.projectId)) {
      throw floatingIpNotFound(id);
    }
    return floatingIp;
  }

  /** What the floating IP leads to now, for its view. */
  associationOf(floatingIp: FloatingIpState): FloatingIpAssociation | null {
    return this.directory.associationOf(floatingIp);
  }

  async create(
    principal: Principal,
    request: FloatingIpCreate,
    context: EventContext,
  ): Promise<FloatingIpState> {
    const projectId = this.networks.ownerFor(principal, request.projectId);
    if (request.floatingIpAddress !== undefined && !isAdmin(principal)) {
      throw forbidden('create_floatingip:floating_ip_address');
    }
    const network: NetworkState = this.networks.network(principal, request.floatingNetworkId);
    this.networks.checkQuota(projectId, 'floatingIps');
    const floatingIpId = randomUUID();
    const addressPortId = randomUUID();
    // The association is checked before an address is taken, so a refused one takes nothing.
    const provisional = { ...initialFloatingIp(), id: floatingIpId, floatingNetworkId: network.id };
    const association =
      request.portId === undefined
        ? null
        : this.resolve(principal, provisional, request.portId, request.fixedIpAddress);
    await this.networks.onNetwork(
      network.id,
      (state) =>
        decideCreateFloatingIpPort(state, {
          floatingIpId,
          portId: addressPortId,
          macAddress: randomMac(),
          projectId: network.projectId,
          ...(request.subnetId === undefined ? {} : { subnetId: request.subnetId }),
          ...(request.floatingIpAddress === undefined
            ? {}
            : { floatingIpAddress: request.floatingIpAddress }),
        }),
      context,
    );
    const address = this.directory.port(addressPortId)?.fixedIps[0]?.ipAddress;
    try {
      if (address === undefined) throw new Error(`the address port ${addressPortId} was not read back`);
      await this.onFloatingIp(
        floatingIpId,
        (state) =>
          decideCreateFloatingIp(
            state,
            {
              floatingIpId,
              projectId,
              floatingNetworkId: network.id,
              addressPortId,
              floatingIpAddress: address,
              description: request.description,
            },
            association,
          ),
        context,
      );
    } catch (error) {
      await this.deletePort(network.id, floatingIpId, addressPortId, context).catch(() => undefined);
      throw error;
    }
    return this.floatingIp(principal, floatingIpId);
  }

  async update(
    principal: Principal,
    id: string,
    changes: FloatingIpUpdate,
    context: EventContext,
  ): Promise<FloatingIpState> {
    const floatingIp = this.floatingIp(principal, id);
    // The association is resolved first, so a refused one changes nothing.
    const association =
      changes.portId === undefined || changes.portId === null
        ? null
        : this.resolve(principal, floatingIp, changes.portId, changes.fixedIpAddress);
    if (changes.description !== undefined) {
      const description = changes.description;
      await this.onFloatingIp(
        floatingIp.id,
        (state) => decideUpdateFloatingIp(state, { description }),
        context,
      );
    }
    if (changes.portId === null) {
      await this.onFloatingIp(floatingIp.id, (state) => decideDisassociateFloatingIp(state), context);
    } else if (association !== null) {
      await this.onFloatingIp(
        floatingIp.id,
        (state) => decideAssociateFloatingIp(state, association),
        context,
      );
    }
    return this.floatingIp(principal, floatingIp.id);
  }

  async delete(principal: Principal, id: string, context: EventContext): Promise<void> {
    const floatingIp = this.floatingIp(principal, id);
    await this.onFloatingIp(floatingIp.id, (state) => decideDeleteFloatingIp(state), context);
    await this.deletePort(floatingIp.floatingNetworkId, floatingIp.id, floatingIp.addressPortId, context);
  }

  private resolve(
    principal: Principal,
    floatingIp: FloatingIpState,
    portId: string,
    fixedIpAddress: string | undefined,
  ): FloatingIpAssociation {
    const port = this.networks.port(principal, portId);
    return resolveAssociation(
      floatingIp,
      { port, ...(fixedIpAddress === undefined ? {} : { fixedIpAddress }) },
      this.directory.routerReach(),
      this.directory.liveAssociations(),
    );
  }

  private async deletePort(
    networkId: string,
    floatingIpId: string,
    portId: string,
    context: EventContext,
  ): Promise<void> {
    await this.networks.onNetwork(
      networkId,
      (state) => decideDeleteFloatingIpPort(state, floatingIpId, portId),
      context,
    );
  }

  private onFloatingIp(
    floatingIpId: string,
    decide: (state: FloatingIpState) => Decision,
    context: EventContext,
  ): Promise<void> {
    return this.networks.decideOn(streamFor('floatingip', floatingIpId), floatingIpReducer, decide, context);
  }
}
