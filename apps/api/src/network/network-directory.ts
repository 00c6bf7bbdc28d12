/**
 * The network read model: every network with its subnets and ports, every security group with its
 * rules, every router and floating IP, and the network quota overrides, folded in memory from
 * `network-`, `secgroup-`, `router-`, `floatingip-` and `quota-` streams; with the indexes the API
 * looks things up by (a subnet's or a port's network, a rule's group, the ports a router uses).
 * The network API, the boot's NICs and the server views read it.
 */
import { Injectable } from '@nestjs/common';

import {
  type NetworkQuotaLimits,
  type NetworkState,
  type AttachedSubnet,
  type ExistingAssociation,
  type FloatingIpAssociation,
  type FloatingIpState,
  type PortState,
  ROUTER_INTERFACE_OWNER,
  type RouterReach,
  type RouterState,
  type SecurityGroupState,
  type SubnetState,
  evolveFloatingIp,
  evolveNetwork,
  evolveNetworkQuotas,
  evolveRouter,
  evolveSecurityGroup,
  initialFloatingIp,
  initialNetwork,
  initialRouter,
  initialSecurityGroup,
  isLive,
  liveAssociation,
} from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../common/store/read-model-hub.js';

const NETWORK = 'network-';
const SECGROUP = 'secgroup-';
const QUOTA = 'quota-';
const ROUTER = 'router-';
const FLOATINGIP = 'floatingip-';

const byCreation = (
  a: { id: string; createdAt: string | null },
  b: { id: string; createdAt: string | null },
): number => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id);

@Injectable()
export class NetworkDirectory implements ReadModel {
  readonly streamPrefixes = [NETWORK, SECGROUP, ROUTER, FLOATINGIP, QUOTA];
  /** Per-project overrides of the network quotas (compute limits on the same streams are another model's). */
  private readonly quotas = new Map<string, Partial<NetworkQuotaLimits>>();
  private readonly networks = new Map<string, NetworkState>();
  private readonly groups = new Map<string, SecurityGroupState>();
  private readonly routers = new Map<string, RouterState>();
  private readonly floatingIps = new Map<string, FloatingIpState>();
  /** The floating IPs each port was last pointed at by, so server views find a NIC's without a scan. */
  private readonly floatingIpsByPort = new Map<string, Set<string>>();
  /** Subnet and port ids to their network; rule ids to their group. */
  private readonly subnetNetwork = new Map<string, string>();
  private readonly portNetwork = new Map<string, string>();
  private readonly ruleGroup = new Map<string, string>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    if (event.stream.startsWith(NETWORK)) {
      const id = event.stream.slice(NETWORK.length);
      const before = this.networks.get(id) ?? initialNetwork();
      const after = evolveNetwork(before, event);
      this.networks.set(id, after);
      this.reindex(before.subnets, after.subnets, this.subnetNetwork, id);
      this.reindex([...before.ports.values()], [...after.ports.values()], this.portNetwork, id);
    } else if (event.stream.startsWith(SECGROUP)) {
      const id = event.stream.slice(SECGROUP.length);
      const before = this.groups.get(id) ?? initialSecurityGroup();
      const after = evolveSecurityGroup(before, event);
      this.groups.set(id, after);
      this.reindex(before.rules, after.rules, this.ruleGroup, id);
    } else if (event.stream.startsWith(ROUTER)) {
      const id = event.stream.slice(ROUTER.length);
      this.routers.set(id, evolveRouter(this.routers.get(id) ?? initialRouter(), event));
    } else if (event.stream.startsWith(FLOATINGIP)) {
      const id = event.stream.slice(FLOATINGIP.length);
      const before = this.floatingIps.get(id) ?? initialFloatingIp();
      const after = evolveFloatingIp(before, event);
      this.floatingIps.set(id, after);
      const [was, is] = [before.association?.portId, after.association?.portId];
      if (was !== is) {
        if (was !== undefined) this.floatingIpsByPort.get(was)?.delete(id);
        if (is !== undefined)
          this.floatingIpsByPort.set(is, (this.floatingIpsByPort.get(is) ?? new Set()).add(id));
      }
    } else if (event.stream.startsWith(QUOTA)) {
      const id = event.stream.slice(QUOTA.length);
      this.quotas.set(id, evolveNetworkQuotas(this.quotas.get(id) ?? {}, event));
    }
  }

  /** The project's network quota overrides (empty: the defaults hold). */
  quotaOverrides(projectId: string): Partial<NetworkQuotaLimits> {
    return this.quotas.get(projectId) ?? {};
  }

  /** Projects with any override, for an admin's quota list. */
  projectsWithQuotas(): string[] {
    return [...this.quotas.entries()]
      .filter(([, limits]) => Object.keys(limits).length > 0)
      .map(([id]) => id);
  }

  /** What a project holds of each resource a network quota limits. */
  usage(projectId: string): NetworkQuotaLimits {
    const owned = (items: readonly { readonly projectId: string }[]): number =>
      items.filter((item) => item.projectId === projectId).length;
    const groups = this.allSecurityGroups().filter((group) => group.projectId === projectId);
    return {
      networks: owned(this.allNetworks()),
      subnets: owned(this.allSubnets()),
      ports: owned(this.allPorts()),
      securityGroups: groups.length,
      securityGroupRules: groups.reduce((total, group) => total + group.rules.length, 0),
      routers: owned(this.allRouters()),
      floatingIps: owned(this.allFloatingIps()),
    };
  }

  private reindex(
    before: readonly { readonly id: string }[],
    after: readonly { readonly id: string }[],
    index: Map<string, string>,
    owner: string,
  ): void {
    if (before === after) return;
    const kept = new Set(after.map((item) => item.id));
    for (const item of before) if (!kept.has(item.id)) index.delete(item.id);
    for (const item of after) index.set(item.id, owner);
  }

  network(id: string): NetworkState | undefined {
    const network = this.networks.get(id);
    return network && isLive(network) ? network : undefined;
  }

  allNetworks(): NetworkState[] {
    return [...this.networks.values()].filter(isLive).sort(byCreation);
  }

  subnet(id: string): SubnetState | undefined {
    const networkId = this.subnetNetwork.get(id);
    return networkId === undefined
      ? undefined
      : this.network(networkId)?.subnets.find((subnet) => subnet.id === id);
  }

  allSubnets(): SubnetState[] {
    return this.allNetworks()
      .flatMap((network) => network.subnets)
      .sort((a, b) => byCreation(a, b));
  }

  port(id: string): PortState | undefined {
    const networkId = this.portNetwork.get(id);
    return networkId === undefined ? undefined : this.network(networkId)?.ports.get(id);
  }

  allPorts(): PortState[] {
    return this.allNetworks()
      .flatMap((network) => [...network.ports.values()])
      .sort(byCreation);
  }

  securityGroup(id: string): SecurityGroupState | undefined {
    const group = this.groups.get(id);
    return group && isLive(group) ? group : undefined;
  }

  allSecurityGroups(): SecurityGroupState[] {
    return [...this.groups.values()].filter(isLive).sort(byCreation);
  }

  /** The group a rule belongs to. */
  groupOfRule(ruleId: string): SecurityGroupState | undefined {
    const groupId = this.ruleGroup.get(ruleId);
    return groupId === undefined ? undefined : this.securityGroup(groupId);
  }

  /** Whether any port uses the group. */
  groupInUse(groupId: string): boolean {
    return this.allNetworks().some((network) =>
      [...network.ports.values()].some((port) => port.securityGroupIds.includes(groupId)),
    );
  }

  router(id: string): RouterState | undefined {
    const router = this.routers.get(id);
    return router && isLive(router) ? router : undefined;
  }

  allRouters(): RouterState[] {
    return [...this.routers.values()].filter(isLive).sort(byCreation);
  }

  /** The ports a router uses: its interfaces and its gateway port. */
  routerPorts(routerId: string): PortState[] {
    return this.allPorts().filter((port) => port.deviceId === routerId);
  }

  routerInterfaces(routerId: string): PortState[] {
    return this.routerPorts(routerId).filter((port) => port.deviceOwner === ROUTER_INTERFACE_OWNER);
  }

  /** Every subnet a router has an address on, through an interface or its gateway. */
  attachedSubnets(routerId: string): AttachedSubnet[] {
    return this.routerPorts(routerId).flatMap((port) =>
      port.fixedIps.flatMap((ip) => {
        const subnet = this.subnet(ip.subnetId);
        return subnet ? [{ subnetId: subnet.id, cidr: subnet.cidr, ipAddress: ip.ipAddress }] : [];
      }),
    );
  }

  /** How each router reaches out: for a floating IP's choice of router. */
  routerReach(): RouterReach[] {
    return this.allRouters().map((router) => ({
      routerId: router.id,
      gatewayNetworkId: router.gateway?.networkId ?? null,
      subnetIds: this.routerInterfaces(router.id).flatMap((port) => port.fixedIps.map((ip) => ip.subnetId)),
    }));
  }

  floatingIp(id: string): FloatingIpState | undefined {
    const floatingIp = this.floatingIps.get(id);
    return floatingIp && isLive(floatingIp) ? floatingIp : undefined;
  }

  allFloatingIps(): FloatingIpState[] {
    return [...this.floatingIps.values()].filter(isLive).sort(byCreation);
  }

  /** The floating IP's association as it stands (none once its port or address is gone). */
  associationOf(floatingIp: FloatingIpState): FloatingIpAssociation | null {
    return liveAssociation(floatingIp, (portId) => this.port(portId));
  }

  /** Every floating IP that leads somewhere now. */
  liveAssociations(): (ExistingAssociation & { readonly routerId: string })[] {
    return this.allFloatingIps().flatMap((floatingIp) => {
      const association = this.associationOf(floatingIp);
      return association
        ? [{ ...association, floatingIpId: floatingIp.id, floatingNetworkId: floatingIp.floatingNetworkId }]
        : [];
    });
  }

  /** The addresses of the floating IPs that lead to a port's fixed address now. */
  floatingIpsOf(portId: string, fixedIp: string): string[] {
    return [...(this.floatingIpsByPort.get(portId) ?? [])]
      .flatMap((id) => this.floatingIp(id) ?? [])
      .filter((floatingIp) => this.associationOf(floatingIp)?.fixedIpAddress === fixedIp)
      .sort(byCreation)
      .map((floatingIp) => floatingIp.floatingIpAddress);
  }

  networkName(id: string): string {
    return this.networks.get(id)?.name ?? '';
  }
}
