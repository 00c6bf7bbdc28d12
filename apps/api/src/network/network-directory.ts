/**
 * The network read model: every network with its subnets and ports, every security group with its
 * rules, and the network quota overrides, folded in memory from `network-`, `secgroup-` and `quota-`
 * streams; with the indexes the API looks things up by (a subnet's or a port's network, a rule's group).
 * The network API, the boot's NICs and the server views read it.
 */
import { Injectable } from '@nestjs/common';

import {
  type NetworkQuotaLimits,
  type NetworkState,
  type PortState,
  type SecurityGroupState,
  type SubnetState,
  evolveNetwork,
  evolveNetworkQuotas,
  evolveSecurityGroup,
  initialNetwork,
  initialSecurityGroup,
} from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../common/store/read-model-hub.js';

const NETWORK = 'network-';
const SECGROUP = 'secgroup-';
const QUOTA = 'quota-';

const live = (state: { readonly exists: boolean; readonly deleted: boolean }): boolean =>
  state.exists && !state.deleted;

const byCreation = (
  a: { id: string; createdAt: string | null },
  b: { id: string; createdAt: string | null },
): number => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id);

@Injectable()
export class NetworkDirectory implements ReadModel {
  readonly streamPrefixes = [NETWORK, SECGROUP, QUOTA];
  /** Per-project overrides of the network quotas (compute limits on the same streams are another model's). */
  private readonly quotas = new Map<string, Partial<NetworkQuotaLimits>>();
  private readonly networks = new Map<string, NetworkState>();
  private readonly groups = new Map<string, SecurityGroupState>();
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
    return network && live(network) ? network : undefined;
  }

  allNetworks(): NetworkState[] {
    return [...this.networks.values()].filter(live).sort(byCreation);
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
    return group && live(group) ? group : undefined;
  }

  allSecurityGroups(): SecurityGroupState[] {
    return [...this.groups.values()].filter(live).sort(byCreation);
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

  networkName(id: string): string {
    return this.networks.get(id)?.name ?? '';
  }
}
