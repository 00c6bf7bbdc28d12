/**
 * The network API's writes and lookups under Neutron's policy: a project sees its own networks, the
 * shared and the external ones, and its own ports and security groups; an admin sees all. Everything a
 * caller may not see answers as missing. Each write is a decision on one stream (a network with its
 * subnets and ports, or a security group with its rules) appended with the revision it read, then
 * waited for in the read model, so the answer and a list right after show it.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { type IpVersion, streamFor } from '#libs/contracts';
import {
  DEFAULT_SECURITY_GROUP,
  type FixedIpRequest,
  type NetworkChanges,
  type NetworkQuotaLimits,
  type NetworkQuotaResource,
  NetworkError,
  type DhcpPortIdentity,
  type NetworkState,
  type PortChanges,
  type PortState,
  type RuleRequest,
  type SecurityGroupChanges,
  type SecurityGroupRule,
  type SecurityGroupState,
  type SubnetChanges,
  type SubnetState,
  checkNetworkQuota,
  checkPortDeletable,
  decideAddRule,
  decideBindPort,
  decideCreateNetwork,
  decideCreatePort,
  decideCreateSecurityGroup,
  decideCreateSubnet,
  decideDeleteNetwork,
  decideDeletePort,
  decideDeleteSecurityGroup,
  decideDeleteSubnet,
  decideReleasePort,
  decideRemoveRule,
  decideSetNetworkQuota,
  decideUpdateNetwork,
  decideUpdatePort,
  decideUpdateSecurityGroup,
  decideUpdateSubnet,
  effectiveNetworkLimits,
  networkNotFound,
  networkQuotaReducer,
  networkReducer,
  portNotFound,
  securityGroupNotFound,
  securityGroupReducer,
  securityGroupRuleNotFound,
  subnetNotFound,
} from '#libs/domain';
import { type Decision, EventStore, type EventContext, type Reducer } from '#libs/event-store';

import { type Principal, isAdmin } from '../common/auth/principal.js';
import { ReadModelHub } from '../common/store/read-model-hub.js';
import { derivedId } from './derived-id.js';
import { NetworkDirectory } from './network-directory.js';

/** Neutron's default MTU for a tenant network without an encapsulation overhead to subtract. */
const DEFAULT_MTU = 1500;

/** Neutron's OpenStack-registered MAC prefix, fa:16:3e, with three random octets. */
export function randomMac(): string {
  const octets = [0xfa, 0x16, 0x3e, ...randomBytes(3)];
  return octets.map((octet) => octet.toString(16).padStart(2, '0')).join(':');
}

/**
 * A network's DHCP port: its id derived from the network's, so however many requests race to make it
 * there is one; its MAC drawn once with it (a later change of the port keeps the one it has).
 */
export const dhcpPortFor = (networkId: string): DhcpPortIdentity => ({
  portId: derivedId('dhcp-port', networkId),
  macAddress: randomMac(),
});

/** The id of a project's `default` security group, derived from the project so that exactly one is made. */
export const defaultGroupIdFor = (projectId: string): string => derivedId('secgroup-default', projectId);

export const forbidden = (action: string): NetworkError =>
  new NetworkError('Forbidden', 'PolicyNotAuthorized', `(rule:${action}) is disallowed by policy`);

export interface NetworkRequest {
  readonly name: string;
  readonly description: string;
  readonly shared: boolean;
  readonly external: boolean;
  readonly adminStateUp: boolean;
  readonly mtu?: number;
  /** An admin may make it for another project. */
  readonly projectId?: string;
}

export interface SubnetCreate {
  readonly networkId: string;
  readonly name: string;
  readonly description: string;
  readonly ipVersion: IpVersion;
  readonly cidr: string;
  readonly gatewayIp?: string | null;
  readonly allocationPools?: readonly { readonly start: string; readonly end: string }[];
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly projectId?: string;
}

export interface PortCreate {
  readonly networkId: string;
  readonly name: string;
  readonly description: string;
  readonly macAddress?: string;
  readonly fixedIps?: readonly FixedIpRequest[];
  readonly deviceId: string;
  readonly deviceOwner: string;
  readonly adminStateUp: boolean;
  /** Undefined: the project's default group. */
  readonly securityGroupIds?: readonly string[];
  readonly projectId?: string;
}

@Injectable()
export class NetworkService {
  constructor(
    private readonly directory: NetworkDirectory,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  // -------------------------------------------------------------------------------------------------------
  // Visibility
  // -------------------------------------------------------------------------------------------------------

  canSeeNetwork(principal: Principal, network: NetworkState): boolean {
    return (
      isAdmin(principal) || network.projectId === principal.projectId || network.shared || network.external
    );
  }

  ownsOrAdmin(principal: Principal, projectId: string): boolean {
    return isAdmin(principal) || projectId === principal.projectId;
  }

  /** The project a write is for: the caller's, or for an admin the one the body names. */
  ownerFor(principal: Principal, projectId: string | undefined): string {
    if (projectId === undefined || projectId === principal.projectId) return principal.projectId;
    if (!isAdmin(principal)) throw forbidden('create:project_id');
    return projectId;
  }

  networks(principal: Principal): NetworkState[] {
    return this.directory.allNetworks().filter((network) => this.canSeeNetwork(principal, network));
  }

  network(principal: Principal, id: string): NetworkState {
    const network = this.directory.network(id.toLowerCase());
    if (!network || !this.canSeeNetwork(principal, network)) throw networkNotFound(id);
    return network;
  }

  /**
   * Neutron shows a subnet to its owner, its network's owner, and everyone when the network is shared:
   * an external network's own subnets stay its owner's (its users see the addresses they were given).
   */
  private canSeeSubnet(principal: Principal, network: NetworkState, subnet: SubnetState): boolean {
    return (
      network.shared ||
      this.ownsOrAdmin(principal, subnet.projectId) ||
      this.ownsOrAdmin(principal, network.projectId)
    );
  }

  subnets(principal: Principal): SubnetState[] {
    return this.networks(principal).flatMap((network) =>
      network.subnets.filter((subnet) => this.canSeeSubnet(principal, network, subnet)),
    );
  }

  subnet(principal: Principal, id: string): SubnetState {
    const subnet = this.directory.subnet(id.toLowerCase());
    const network = subnet && this.directory.network(subnet.networkId);
    if (!subnet || !network || !this.canSeeSubnet(principal, network, subnet)) throw subnetNotFound(id);
    return subnet;
  }

  ports(principal: Principal): PortState[] {
    return this.directory.allPorts().filter((port) => this.ownsOrAdmin(principal, port.projectId));
  }

  port(principal: Principal, id: string): PortState {
    const port = this.directory.port(id.toLowerCase());
    if (!port || !this.ownsOrAdmin(principal, port.projectId)) throw portNotFound(id);
    return port;
  }

  /** The caller's groups; a project's `default` group is made the first time it is looked for. */
  async securityGroups(principal: Principal, context: EventContext): Promise<SecurityGroupState[]> {
    await this.ensureDefaultGroup(principal.projectId, context);
    return this.directory.allSecurityGroups().filter((group) => this.ownsOrAdmin(principal, group.projectId));
  }

  securityGroup(principal: Principal, id: string): SecurityGroupState {
    const group = this.directory.securityGroup(id.toLowerCase());
    if (!group || !this.ownsOrAdmin(principal, group.projectId)) throw securityGroupNotFound(id);
    return group;
  }

  isDefaultGroup(group: SecurityGroupState): boolean {
    return group.id === defaultGroupIdFor(group.projectId);
  }

  /** The rule and its group, if the caller may see them. */
  rule(principal: Principal, ruleId: string): SecurityGroupState {
    const group = this.directory.groupOfRule(ruleId.toLowerCase());
    if (!group || !this.ownsOrAdmin(principal, group.projectId)) throw securityGroupRuleNotFound(ruleId);
    return group;
  }

  /**
   * A group a boot names, by id or, within the caller's project, by name (Nova takes names), without
   * making anything: `default` for the project's default group (made when a port first needs it);
   * Neutron's 404 when none or several match.
   */
  findGroup(principal: Principal, nameOrId: string): SecurityGroupState | 'default' {
    const id = nameOrId.toLowerCase();
    if (nameOrId === DEFAULT_SECURITY_GROUP || id === defaultGroupIdFor(principal.projectId))
      return 'default';
    const visible = this.directory
      .allSecurityGroups()
      .filter((group) => this.ownsOrAdmin(principal, group.projectId));
    const byId = visible.find((group) => group.id === id);
    if (byId) return byId;
    const named = visible.filter(
      (group) => group.name === nameOrId && group.projectId === principal.projectId,
    );
    if (named.length === 1 && named[0]) return named[0];
    throw securityGroupNotFound(nameOrId);
  }

  /** The ids of the groups a boot named, the project's default made if it is among them and missing. */
  async groupIds(
    principal: Principal,
    groups: readonly (SecurityGroupState | 'default')[],
    context: EventContext,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const group of groups) {
      const id =
        group === 'default' ? (await this.ensureDefaultGroup(principal.projectId, context))?.id : group.id;
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  // -------------------------------------------------------------------------------------------------------
  // Quotas
  // -------------------------------------------------------------------------------------------------------

  limitsOf(projectId: string): NetworkQuotaLimits {
    return effectiveNetworkLimits(this.directory.quotaOverrides(projectId));
  }

  projectsWithQuotas(): string[] {
    return this.directory.projectsWithQuotas();
  }

  usageOf(projectId: string): NetworkQuotaLimits {
    return this.directory.usage(projectId);
  }

  /** Neutron's OverQuota (409) when one more would pass the project's limit. */
  checkQuota(projectId: string, resource: NetworkQuotaResource): void {
    checkNetworkQuota(this.limitsOf(projectId), resource, this.directory.usage(projectId)[resource]);
  }

  async setQuota(
    principal: Principal,
    projectId: string,
    changes: Partial<NetworkQuotaLimits>,
    context: EventContext,
  ): Promise<NetworkQuotaLimits> {
    if (!isAdmin(principal)) throw forbidden('update_quota');
    await this.decideOn(
      streamFor('quota', projectId),
      networkQuotaReducer,
      (overrides) => decideSetNetworkQuota(overrides, projectId, changes),
      context,
    );
    return this.limitsOf(projectId);
  }

  // -------------------------------------------------------------------------------------------------------
  // Networks
  // -------------------------------------------------------------------------------------------------------

  async createNetwork(
    principal: Principal,
    request: NetworkRequest,
    context: EventContext,
  ): Promise<NetworkState> {
    if ((request.shared || request.external) && !isAdmin(principal)) {
      throw forbidden(request.shared ? 'create_network:shared' : 'create_network:router:external');
    }
    const owner = this.ownerFor(principal, request.projectId);
    this.checkQuota(owner, 'networks');
    const networkId = randomUUID();
    await this.onNetwork(
      networkId,
      (state) =>
        decideCreateNetwork(state, {
          networkId,
          projectId: owner,
          name: request.name,
          description: request.description,
          shared: request.shared,
          external: request.external,
          adminStateUp: request.adminStateUp,
          mtu: request.mtu ?? DEFAULT_MTU,
        }),
      context,
    );
    return this.network(principal, networkId);
  }

  private writableNetwork(principal: Principal, id: string, action: string): NetworkState {
    const network = this.network(principal, id);
    if (!this.ownsOrAdmin(principal, network.projectId)) throw forbidden(action);
    return network;
  }

  async updateNetwork(
    principal: Principal,
    id: string,
    changes: NetworkChanges,
    context: EventContext,
  ): Promise<NetworkState> {
    const network = this.writableNetwork(principal, id, 'update_network');
    if ((changes.shared !== undefined || changes.external !== undefined) && !isAdmin(principal)) {
      throw forbidden(
        changes.shared === undefined ? 'update_network:router:external' : 'update_network:shared',
      );
    }
    await this.onNetwork(network.id, (state) => decideUpdateNetwork(state, changes), context);
    return this.network(principal, network.id);
  }

  async deleteNetwork(principal: Principal, id: string, context: EventContext): Promise<void> {
    const network = this.writableNetwork(principal, id, 'delete_network');
    await this.onNetwork(network.id, (state) => decideDeleteNetwork(state, network.id), context);
  }

  /**
   * One decision on a stream of the network API (a network, a security group, a router, a floating IP,
   * a project's quotas), appended at the revision it read and waited for in the read model, so the
   * answer and a list right after show it.
   */
  async decideOn<S>(
    stream: string,
    reducer: Reducer<S>,
    decide: (state: S) => Decision,
    context: EventContext,
  ): Promise<void> {
    const { appended } = await this.store.execute(stream, reducer, decide, context);
    await this.hub.waitFor(appended?.position);
  }

  onNetwork(
    networkId: string,
    decide: (state: NetworkState) => Decision,
    context: EventContext,
  ): Promise<void> {
    return this.decideOn(streamFor('network', networkId), networkReducer, decide, context);
  }

  // -------------------------------------------------------------------------------------------------------
  // Subnets
  // -------------------------------------------------------------------------------------------------------

  async createSubnet(
    principal: Principal,
    request: SubnetCreate,
    context: EventContext,
  ): Promise<SubnetState> {
    const network = this.writableNetwork(principal, request.networkId, 'create_subnet');
    const subnetId = randomUUID();
    const { networkId: _network, projectId: asked, ...fields } = request;
    const projectId = this.ownerFor(principal, asked);
    this.checkQuota(projectId, 'subnets');
    await this.onNetwork(
      network.id,
      (state) => decideCreateSubnet(state, { ...fields, subnetId, projectId }, dhcpPortFor(network.id)),
      context,
    );
    return this.subnet(principal, subnetId);
  }

  async updateSubnet(
    principal: Principal,
    id: string,
    changes: SubnetChanges,
    context: EventContext,
  ): Promise<SubnetState> {
    const subnet = this.subnet(principal, id);
    this.writableNetwork(principal, subnet.networkId, 'update_subnet');
    await this.onNetwork(
      subnet.networkId,
      (state) => decideUpdateSubnet(state, subnet.id, changes, dhcpPortFor(subnet.networkId)),
      context,
    );
    return this.subnet(principal, subnet.id);
  }

  async deleteSubnet(principal: Principal, id: string, context: EventContext): Promise<void> {
    const subnet = this.subnet(principal, id);
    this.writableNetwork(principal, subnet.networkId, 'delete_subnet');
    await this.onNetwork(subnet.networkId, (state) => decideDeleteSubnet(state, subnet.id), context);
  }

  // -------------------------------------------------------------------------------------------------------
  // Ports
  // -------------------------------------------------------------------------------------------------------

  async createPort(principal: Principal, request: PortCreate, context: EventContext): Promise<PortState> {
    const network = this.network(principal, request.networkId);
    if (!network.shared && !this.ownsOrAdmin(principal, network.projectId)) throw forbidden('create_port');
    const projectId = this.ownerFor(principal, request.projectId);
    this.checkQuota(projectId, 'ports');
    const securityGroupIds = await this.groupIdsFor(principal, projectId, request.securityGroupIds, context);
    const portId = randomUUID();
    const {
      networkId: _network,
      projectId: _project,
      securityGroupIds: _groups,
      macAddress,
      ...fields
    } = request;
    await this.onNetwork(
      network.id,
      (state) =>
        decideCreatePort(state, {
          ...fields,
          portId,
          projectId,
          macAddress: macAddress ?? randomMac(),
          securityGroupIds,
        }),
      context,
    );
    return this.port(principal, portId);
  }

  /** The groups a new port gets: those named (each visible to the caller), or the project's default. */
  private async groupIdsFor(
    principal: Principal,
    projectId: string,
    named: readonly string[] | undefined,
    context: EventContext,
  ): Promise<string[]> {
    if (named === undefined) {
      const group = await this.ensureDefaultGroup(projectId, context);
      return group ? [group.id] : [];
    }
    return [...new Set(named.map((id) => this.securityGroup(principal, id).id))];
  }

  async updatePort(
    principal: Principal,
    id: string,
    changes: PortChanges,
    context: EventContext,
  ): Promise<PortState> {
    const port = this.port(principal, id);
    const securityGroupIds =
      changes.securityGroupIds === undefined
        ? undefined
        : [...new Set(changes.securityGroupIds.map((group) => this.securityGroup(principal, group).id))];
    await this.onNetwork(
      port.networkId,
      (state) =>
        decideUpdatePort(state, port.id, { ...changes, ...(securityGroupIds ? { securityGroupIds } : {}) }),
      context,
    );
    return this.port(principal, port.id);
  }

  async deletePort(principal: Principal, id: string, context: EventContext): Promise<void> {
    const port = this.port(principal, id);
    checkPortDeletable(port);
    await this.onNetwork(port.networkId, (state) => decideDeletePort(state, port.id), context);
  }

  /** Makes the port the caller named the NIC of a server being booted (PortInUse when it is taken). */
  async bindPort(
    principal: Principal,
    portId: string,
    device: { readonly deviceId: string; readonly deviceOwner: string },
    context: EventContext,
  ): Promise<PortState> {
    const port = this.port(principal, portId);
    await this.onNetwork(port.networkId, (state) => decideBindPort(state, port.id, device), context);
    return this.port(principal, port.id);
  }

  /** Gives back a port a server was to use: deleted if made for it, unbound if the user brought it. */
  async releasePort(
    port: { readonly networkId: string; readonly portId: string },
    instanceId: string,
    preserve: boolean,
    context: EventContext,
  ): Promise<void> {
    await this.onNetwork(
      port.networkId,
      (state) => decideReleasePort(state, port.portId, instanceId, preserve),
      context,
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Security groups
  // -------------------------------------------------------------------------------------------------------

  /** The project's `default` group, made now if it was never made; undefined once an admin deleted it. */
  async ensureDefaultGroup(
    projectId: string,
    context: EventContext,
  ): Promise<SecurityGroupState | undefined> {
    const id = defaultGroupIdFor(projectId);
    const known = this.directory.securityGroup(id);
    if (known) return known;
    await this.onGroup(
      id,
      (state) =>
        state.exists
          ? []
          : decideCreateSecurityGroup(
              state,
              {
                securityGroupId: id,
                projectId,
                name: DEFAULT_SECURITY_GROUP,
                description: 'Default security group',
              },
              [randomUUID(), randomUUID(), randomUUID(), randomUUID()],
            ),
      context,
    );
    return this.directory.securityGroup(id);
  }

  async createSecurityGroup(
    principal: Principal,
    request: { readonly name: string; readonly description: string; readonly projectId?: string },
    context: EventContext,
  ): Promise<SecurityGroupState> {
    const projectId = this.ownerFor(principal, request.projectId);
    await this.ensureDefaultGroup(projectId, context);
    if (request.name === DEFAULT_SECURITY_GROUP) {
      throw new NetworkError(
        'Conflict',
        'SecurityGroupDefaultAlreadyExists',
        'Default security group already exists.',
      );
    }
    this.checkQuota(projectId, 'securityGroups');
    const securityGroupId = randomUUID();
    await this.onGroup(
      securityGroupId,
      (state) =>
        decideCreateSecurityGroup(
          state,
          { securityGroupId, projectId, name: request.name, description: request.description },
          [randomUUID(), randomUUID()],
        ),
      context,
    );
    return this.securityGroup(principal, securityGroupId);
  }

  async updateSecurityGroup(
    principal: Principal,
    id: string,
    changes: SecurityGroupChanges,
    context: EventContext,
  ): Promise<SecurityGroupState> {
    const group = this.securityGroup(principal, id);
    await this.onGroup(
      group.id,
      (state) => decideUpdateSecurityGroup(state, changes, this.isDefaultGroup(group)),
      context,
    );
    return this.securityGroup(principal, group.id);
  }

  async deleteSecurityGroup(principal: Principal, id: string, context: EventContext): Promise<void> {
    const group = this.securityGroup(principal, id);
    const options = {
      isDefault: this.isDefaultGroup(group),
      byAdmin: isAdmin(principal),
      inUse: this.directory.groupInUse(group.id),
    };
    await this.onGroup(group.id, (state) => decideDeleteSecurityGroup(state, options), context);
  }

  async addRule(
    principal: Principal,
    securityGroupId: string,
    rule: Omit<RuleRequest, 'ruleId'>,
    context: EventContext,
  ): Promise<{ readonly group: SecurityGroupState; readonly rule: SecurityGroupRule }> {
    const group = this.securityGroup(principal, securityGroupId);
    if (rule.remoteGroupId !== null) this.securityGroup(principal, rule.remoteGroupId);
    this.checkQuota(group.projectId, 'securityGroupRules');
    const ruleId = randomUUID();
    await this.onGroup(group.id, (state) => decideAddRule(state, { ...rule, ruleId }), context);
    const updated = this.rule(principal, ruleId);
    const added = updated.rules.find((candidate) => candidate.id === ruleId);
    if (!added) throw securityGroupRuleNotFound(ruleId);
    return { group: updated, rule: added };
  }

  async removeRule(principal: Principal, ruleId: string, context: EventContext): Promise<void> {
    const group = this.rule(principal, ruleId);
    await this.onGroup(group.id, (state) => decideRemoveRule(state, ruleId.toLowerCase()), context);
  }

  private onGroup(
    securityGroupId: string,
    decide: (state: SecurityGroupState) => Decision,
    context: EventContext,
  ): Promise<void> {
    return this.decideOn(streamFor('secgroup', securityGroupId), securityGroupReducer, decide, context);
  }
}
