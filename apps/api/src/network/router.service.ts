/**
 * Routers under Neutron's policy: a project sees and changes its own, an admin all; only an admin picks a
 * gateway's SNAT or addresses. A router's own attributes are decided on its stream; its interfaces and
 * gateway port on their networks' streams, with what the router already reaches read from the read
 * model. A gateway is allocated before the router records it, and given back if that record fails, so a
 * router never names a gateway port that does not exist; a cleared gateway is recorded first and its
 * port deleted after.
 */
import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import {
  type FixedIpRequest,
  NetworkError,
  type NetworkState,
  type PortState,
  type RouterChanges,
  type RouterState,
  checkInterfaceRemovable,
  decideAddRouterInterface,
  decideAttachRouterPort,
  decideClearGateway,
  decideCreateGatewayPort,
  decideCreateRouter,
  decideDeleteGatewayPort,
  decideDeleteRouter,
  decideRemoveRouterInterface,
  decideSetGateway,
  decideUpdateRouter,
  initialNetwork,
  routerInterfaceOf,
  routerNotFound,
  routerReducer,
  subnetNotFound,
} from '#libs/domain';
import type { Decision, EventContext } from '#libs/event-store';

import { type Principal, isAdmin } from '../common/auth/principal.js';
import { NetworkDirectory } from './network-directory.js';
import { NetworkService, forbidden, randomMac } from './network.service.js';

/** A router's `external_gateway_info` as asked for. */
export interface GatewayInfo {
  readonly networkId: string;
  /** Undefined: SNAT on (Neutron's default). */
  readonly enableSnat?: boolean;
  readonly fixedIps?: readonly FixedIpRequest[];
}

export interface RouterCreate {
  readonly name: string;
  readonly description: string;
  readonly adminStateUp: boolean;
  readonly projectId?: string;
  readonly gateway: GatewayInfo | null;
}

export interface RouterUpdate extends RouterChanges {
  /** Undefined: unchanged; null: cleared. */
  readonly gateway?: GatewayInfo | null;
}

/** What an interface was added or removed with (Neutron's router-interface body). */
export interface RouterInterface {
  readonly router: RouterState;
  readonly port: PortState;
  readonly subnetId: string;
}

export type InterfaceTarget = { readonly subnetId: string } | { readonly portId: string };

@Injectable()
export class RouterService {
  constructor(
    private readonly directory: NetworkDirectory,
    private readonly networks: NetworkService,
  ) {}

  routers(principal: Principal): RouterState[] {
    return this.directory
      .allRouters()
      .filter((router) => this.networks.ownsOrAdmin(principal, router.projectId));
  }

  router(principal: Principal, id: string): RouterState {
    const router = this.directory.router(id.toLowerCase());
    if (!router || !this.networks.ownsOrAdmin(principal, router.projectId)) throw routerNotFound(id);
    return router;
  }

  /** The router's gateway port, for its view. */
  gatewayPort(router: RouterState): PortState | undefined {
    return router.gateway ? this.directory.port(router.gateway.portId) : undefined;
  }

  async createRouter(
    principal: Principal,
    request: RouterCreate,
    context: EventContext,
  ): Promise<RouterState> {
    const projectId = this.networks.ownerFor(principal, request.projectId);
    this.networks.checkQuota(projectId, 'routers');
    const routerId = randomUUID();
    const gateway =
      request.gateway && (await this.allocateGateway(principal, routerId, request.gateway, context));
    try {
      await this.onRouter(
        routerId,
        (state) =>
          decideCreateRouter(
            state,
            {
              routerId,
              projectId,
              name: request.name,
              description: request.description,
              adminStateUp: request.adminStateUp,
            },
            gateway,
          ),
        context,
      );
    } catch (error) {
      if (gateway) await this.deleteGatewayPort(routerId, gateway, context).catch(() => undefined);
      throw error;
    }
    return this.router(principal, routerId);
  }

  async updateRouter(
    principal: Principal,
    id: string,
    changes: RouterUpdate,
    context: EventContext,
  ): Promise<RouterState> {
    const router = this.router(principal, id);
    const { gateway, ...attributes } = changes;
    const attached = this.directory.attachedSubnets(router.id);
    // Bad attributes are refused before the gateway changes, so a refused update changes nothing.
    decideUpdateRouter(router, attributes, attached);
    if (gateway !== undefined) await this.changeGateway(principal, router, gateway, context);
    await this.onRouter(router.id, (state) => decideUpdateRouter(state, attributes, attached), context);
    return this.router(principal, router.id);
  }

  async deleteRouter(principal: Principal, id: string, context: EventContext): Promise<void> {
    const router = this.router(principal, id);
    const interfaces = this.directory.routerInterfaces(router.id).length;
    await this.onRouter(router.id, (state) => decideDeleteRouter(state, interfaces), context);
    if (router.gateway) await this.deleteGatewayPort(router.id, router.gateway, context);
  }

  async addInterface(
    principal: Principal,
    id: string,
    target: InterfaceTarget,
    context: EventContext,
  ): Promise<RouterInterface> {
    const router = this.router(principal, id);
    const attached = this.directory.attachedSubnets(router.id);
    if ('portId' in target) {
      const port = this.networks.port(principal, target.portId);
      await this.networks.onNetwork(
        port.networkId,
        (state) => decideAttachRouterPort(state, router.id, port.id, attached),
        context,
      );
      const bound = this.networks.port(principal, port.id);
      return { router, port: bound, subnetId: bound.fixedIps[0]?.subnetId ?? '' };
    }
    const subnet = this.networks.subnet(principal, target.subnetId);
    const network = this.networks.network(principal, subnet.networkId);
    if (!network.shared && !this.networks.ownsOrAdmin(principal, network.projectId)) {
      throw forbidden('add_router_interface');
    }
    const portId = randomUUID();
    await this.networks.onNetwork(
      network.id,
      (state) =>
        decideAddRouterInterface(
          state,
          {
            routerId: router.id,
            subnetId: subnet.id,
            portId,
            macAddress: randomMac(),
            projectId: router.projectId,
          },
          attached,
        ),
      context,
    );
    return { router, port: this.networks.port(principal, portId), subnetId: subnet.id };
  }

  async removeInterface(
    principal: Principal,
    id: string,
    target: InterfaceTarget,
    context: EventContext,
  ): Promise<RouterInterface> {
    const router = this.router(principal, id);
    const port = this.interfacePort(router, target);
    const subnetId = 'subnetId' in target ? target.subnetId : (port.fixedIps[0]?.subnetId ?? '');
    const subnet = this.directory.subnet(subnetId);
    if (subnet) checkInterfaceRemovable(router, subnet);
    const reached = this.floatingIpsThrough(router.id).some((association) =>
      this.directory
        .port(association.portId)
        ?.fixedIps.some((ip) => ip.subnetId === subnetId && ip.ipAddress === association.fixedIpAddress),
    );
    if (reached) {
      throw new NetworkError(
        'Conflict',
        'RouterInterfaceInUseByFloatingIP',
        `Router interface for subnet ${subnetId} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
      );
    }
    await this.networks.onNetwork(
      port.networkId,
      (state) => decideRemoveRouterInterface(state, router.id, { portId: port.id }),
      context,
    );
    return { router, port, subnetId };
  }

  /** The floating IPs that lead somewhere through the router now. */
  private floatingIpsThrough(
    routerId: string,
  ): { readonly portId: string; readonly fixedIpAddress: string }[] {
    return this.directory.liveAssociations().filter((association) => association.routerId === routerId);
  }

  /** The router's interface port the target names, from the ports the read model knows the router by. */
  private interfacePort(router: RouterState, target: InterfaceTarget): PortState {
    const networkId =
      'portId' in target
        ? this.directory.port(target.portId)?.networkId
        : this.directory.subnet(target.subnetId)?.networkId;
    const network = networkId === undefined ? undefined : this.directory.network(networkId);
    if (!network && 'subnetId' in target) throw subnetNotFound(target.subnetId);
    return routerInterfaceOf(network ?? initialNetwork(), router.id, target);
  }

  // -------------------------------------------------------------------------------------------------------
  // Gateways
  // -------------------------------------------------------------------------------------------------------

  private async changeGateway(
    principal: Principal,
    router: RouterState,
    wanted: GatewayInfo | null,
    context: EventContext,
  ): Promise<void> {
    const current = router.gateway;
    if (
      wanted !== null &&
      current !== null &&
      wanted.networkId === current.networkId &&
      wanted.fixedIps === undefined
    ) {
      // The same network: only SNAT may change, on the port it already has.
      const enableSnat = this.snatOf(principal, wanted);
      await this.onRouter(router.id, (state) => decideSetGateway(state, { ...current, enableSnat }), context);
      return;
    }
    if (current !== null && this.floatingIpsThrough(router.id).length > 0) {
      throw new NetworkError(
        'Conflict',
        'RouterExternalGatewayInUseByFloatingIp',
        `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${current.networkId} is required by one or more floating IPs.`,
      );
    }
    // The new gateway is allocated first, so a refused one leaves the old in place.
    const gateway = wanted && (await this.allocateGateway(principal, router.id, wanted, context));
    try {
      if (current !== null) {
        await this.onRouter(router.id, (state) => decideClearGateway(state), context);
        await this.deleteGatewayPort(router.id, current, context);
      }
      if (gateway) await this.onRouter(router.id, (state) => decideSetGateway(state, gateway), context);
    } catch (error) {
      if (gateway) await this.deleteGatewayPort(router.id, gateway, context).catch(() => undefined);
      throw error;
    }
  }

  private snatOf(principal: Principal, wanted: GatewayInfo): boolean {
    if (wanted.enableSnat !== undefined && !isAdmin(principal)) {
      throw forbidden('update_router:external_gateway_info:enable_snat');
    }
    return wanted.enableSnat ?? true;
  }

  /**
   * The gateway port on the external network, which belongs to that network's project (as Neutron keeps
   * it from the router's project), so the router's project neither sees nor counts it.
   */
  private async allocateGateway(
    principal: Principal,
    routerId: string,
    wanted: GatewayInfo,
    context: EventContext,
  ): Promise<{ networkId: string; portId: string; enableSnat: boolean }> {
    const enableSnat = this.snatOf(principal, wanted);
    if (wanted.fixedIps !== undefined && !isAdmin(principal)) {
      throw forbidden('update_router:external_gateway_info:external_fixed_ips');
    }
    const network: NetworkState = this.networks.network(principal, wanted.networkId);
    const portId = randomUUID();
    await this.networks.onNetwork(
      network.id,
      (state) =>
        decideCreateGatewayPort(state, {
          routerId,
          portId,
          macAddress: randomMac(),
          projectId: network.projectId,
          ...(wanted.fixedIps === undefined ? {} : { fixedIps: wanted.fixedIps }),
        }),
      context,
    );
    return { networkId: network.id, portId, enableSnat };
  }

  private async deleteGatewayPort(
    routerId: string,
    gateway: { readonly networkId: string; readonly portId: string },
    context: EventContext,
  ): Promise<void> {
    await this.networks.onNetwork(
      gateway.networkId,
      (state) => decideDeleteGatewayPort(state, routerId, gateway.portId),
      context,
    );
  }

  private onRouter(
    routerId: string,
    decide: (state: RouterState) => Decision,
    context: EventContext,
  ): Promise<void> {
    return this.networks.decideOn(streamFor('router', routerId), routerReducer, decide, context);
  }
}
