/**
 * A boot's NICs, as Nova gets them from Neutron: the `networks` of the request checked at admission
 * (each network visible, each port the caller's and free, `auto` resolved to the one network the project
 * can use), then for each server a port per NIC, made (or, for a port the user named, bound) before the
 * server's BootRequested is appended, and recorded with it as NetworkInterfaceAttached. A boot that does
 * not get appended gives its ports back; ports outlive a server only when the user brought them.
 */
import { Injectable, Logger } from '@nestjs/common';

import { NetworkInterfaceAttached, type RequestedNetworks, build } from '#libs/contracts';
import { DomainError, type NetworkState, type SecurityGroupState } from '#libs/domain';
import type { EventContext } from '#libs/event-store';

import type { Principal } from '../../common/auth/principal.js';
import { badRequest, conflict } from '../../common/http/api-error.js';
import { NetworkService } from '../../network/network.service.js';
import type { CreateServerBody } from './servers.schemas.js';

/** One NIC to give each server: a port made on a network (at an address, if asked), or one the user made. */
export type NicPlan =
  | { readonly kind: 'network'; readonly networkId: string; readonly fixedIp?: string }
  | { readonly kind: 'port'; readonly portId: string };

export interface NetworkPlan {
  readonly requested: RequestedNetworks;
  readonly nics: readonly NicPlan[];
  /** The security groups each made port gets; undefined: the project's default. */
  readonly securityGroups?: readonly (SecurityGroupState | 'default')[];
}

/** A NIC given to a server, and how to give it back. */
export interface AllocatedNic {
  readonly event: NetworkInterfaceAttached;
  readonly networkId: string;
  readonly portId: string;
  readonly preserve: boolean;
}

@Injectable()
export class ServerNics {
  private readonly logger = new Logger(ServerNics.name);

  constructor(private readonly network: NetworkService) {}

  /** Nova's 400s and 409s for what the request names; nothing is written. */
  plan(
    principal: Principal,
    request: CreateServerBody['server'],
    count: { readonly min: number; readonly max: number },
  ): NetworkPlan {
    const networks = request.networks;
    const explicit = typeof networks === 'object';
    const nics =
      networks === 'none' || networks?.length === 0
        ? null
        : explicit
          ? networks.map((entry) => this.explicit(principal, entry, count.max))
          : this.automatic(principal);
    const securityGroups =
      request.security_groups === undefined || nics === null || nics.length === 0
        ? undefined
        : request.security_groups.flatMap(({ name }) =>
            name === undefined
              ? []
              : [
                  this.lookup(
                    () => this.network.findGroup(principal, name),
                    `Security group ${name} not found for project ${principal.projectId}.`,
                  ),
                ],
          );
    return {
      requested: nics === null ? 'none' : explicit ? 'explicit' : 'auto',
      nics: nics ?? [],
      ...(securityGroups === undefined ? {} : { securityGroups }),
    };
  }

  /**
   * The NIC an interface attach asks for: a port the caller has that is free, or a port on a network
   * (at the address asked for), or with neither the one network the project can use.
   */
  planInterface(
    principal: Principal,
    request: { readonly port_id?: string; readonly net_id?: string; readonly fixed_ip?: string },
  ): NicPlan {
    if (request.port_id !== undefined && request.net_id !== undefined) {
      throw badRequest('Must not input both network_id and port_id');
    }
    if (request.port_id !== undefined) return this.explicit(principal, { port: request.port_id }, 1);
    if (request.net_id !== undefined) {
      return this.explicit(
        principal,
        { uuid: request.net_id, ...(request.fixed_ip === undefined ? {} : { fixed_ip: request.fixed_ip }) },
        1,
      );
    }
    const [only] = this.automatic(principal);
    if (!only) throw badRequest('No network is available to attach an interface to: name one with net_id.');
    return only;
  }

  /**
   * `auto`: the one network the project can put a server on (its own, or a shared one; never an
   * external one). With none, the server gets no NIC (Nova would ask Neutron to make a topology, which
   * Nimbus does not); with several, Nova's 409.
   */
  private automatic(principal: Principal): NicPlan[] {
    const usable = this.network
      .networks(principal)
      .filter((network: NetworkState) => !network.external && network.subnets.length > 0);
    if (usable.length > 1) {
      throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
    }
    return usable.map((network) => ({ kind: 'network', networkId: network.id }));
  }

  private explicit(
    principal: Principal,
    entry: { readonly uuid?: string; readonly port?: string | null; readonly fixed_ip?: string },
    maxCount: number,
  ): NicPlan {
    if (entry.port !== undefined && entry.port !== null) {
      if (maxCount > 1)
        throw badRequest(
          'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.',
        );
      const port = this.lookup(
        () => this.network.port(principal, entry.port ?? ''),
        `Port ${entry.port} could not be found.`,
      );
      if (port.deviceId !== '') throw conflict(`Port ${port.id} is still in use.`);
      return { kind: 'port', portId: port.id };
    }
    if (entry.uuid === undefined)
      throw badRequest('Bad networks format: network uuid is not in proper format');
    const network = this.lookup(
      () => this.network.network(principal, entry.uuid ?? ''),
      `Network ${entry.uuid} could not be found.`,
    );
    if (network.subnets.length === 0) {
      throw badRequest(`Network ${network.id} requires a subnet in order to boot instances on.`);
    }
    if (entry.fixed_ip !== undefined) {
      if (maxCount > 1) throw badRequest('max_count cannot be greater than 1 if an fixed_ip is specified.');
      return { kind: 'network', networkId: network.id, fixedIp: entry.fixed_ip };
    }
    return { kind: 'network', networkId: network.id };
  }

  private lookup<T>(find: () => T, message: string): T {
    try {
      return find();
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NotFound') throw badRequest(message);
      throw error;
    }
  }

  /**
   * The server's ports, made or bound in order; if one cannot be had, those already had are given back
   * and the request fails as Nova's would (an address taken: 400; no address left: 409).
   */
  async allocate(
    principal: Principal,
    plan: NetworkPlan,
    instanceId: string,
    zone: string | null,
    context: EventContext,
  ): Promise<AllocatedNic[]> {
    const allocated: AllocatedNic[] = [];
    const device = { deviceId: instanceId, deviceOwner: `compute:${zone ?? 'nova'}` };
    try {
      const securityGroupIds =
        plan.securityGroups === undefined
          ? undefined
          : await this.network.groupIds(principal, plan.securityGroups, context);
      for (const nic of plan.nics) {
        const port =
          nic.kind === 'port'
            ? await this.network.bindPort(principal, nic.portId, device, context)
            : await this.network.createPort(
                principal,
                {
                  networkId: nic.networkId,
                  name: '',
                  description: '',
                  ...(nic.fixedIp === undefined ? {} : { fixedIps: [{ ipAddress: nic.fixedIp }] }),
                  ...device,
                  adminStateUp: true,
                  ...(securityGroupIds === undefined ? {} : { securityGroupIds }),
                },
                context,
              );
        const preserve = nic.kind === 'port';
        const event = build(NetworkInterfaceAttached, {
          instanceId,
          portId: port.id,
          networkId: port.networkId,
          macAddress: port.macAddress,
          fixedIps: port.fixedIps.map(({ subnetId, ipAddress }) => ({ subnetId, ipAddress })),
          preserveOnDelete: preserve,
        });
        allocated.push({ event, networkId: port.networkId, portId: port.id, preserve });
      }
      return allocated;
    } catch (error) {
      await this.release(allocated, instanceId, context);
      throw novaError(error);
    }
  }

  /** Gives back what a boot that was not appended had taken; a failure here leaves a port to clean up. */
  async release(nics: readonly AllocatedNic[], instanceId: string, context: EventContext): Promise<void> {
    for (const nic of nics) {
      try {
        await this.network.releasePort(nic, instanceId, nic.preserve, context);
      } catch (error) {
        this.logger.warn(
          `port ${nic.portId} of unbooted server ${instanceId} not released: ${String(error)}`,
        );
      }
    }
  }
}

/** Neutron's refusals as Nova answers a boot with them. */
function novaError(error: unknown): unknown {
  if (!(error instanceof DomainError) || !('type' in error)) return error;
  switch (error.type) {
    case 'IpAddressAlreadyAllocated':
    case 'InvalidIpForNetwork':
      return badRequest(error.message);
    case 'IpAddressGenerationFailure':
    case 'PortInUse':
    case 'MacAddressInUse':
      return conflict(error.message);
    default:
      return error;
  }
}
