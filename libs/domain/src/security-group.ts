/**
 * The security group aggregate: a group and its rules as the fold of `secgroup-<uuid>`, and Neutron's
 * decisions on them: the rules a new group starts with, a rule's consistency (ports only with a protocol
 * that has them, a remote prefix of the rule's ether type), no duplicate rule, and no deleting a
 * project's `default` group.
 * Pure: no I/O, no clock, no randomness (ids come in with the request).
 */
import {
  type DecodedEvent,
  type EtherType,
  type Plain,
  type RuleDirection,
  type RuleProtocol,
  SecurityGroupCreated,
  SecurityGroupDeleted,
  type SecurityGroupEvent,
  SecurityGroupRuleAdded,
  SecurityGroupRuleRemoved,
  SecurityGroupUpdated,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { formatPrefix, parsePrefix } from './ip-ranges.js';
import { NetworkError, isLive } from './network.js';

export const DEFAULT_SECURITY_GROUP = 'default';

export interface SecurityGroupRule {
  readonly id: string;
  readonly securityGroupId: string;
  readonly direction: RuleDirection;
  readonly ethertype: EtherType;
  readonly protocol: RuleProtocol | null;
  readonly portRangeMin: number | null;
  readonly portRangeMax: number | null;
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
  readonly description: string;
  readonly createdAt: string;
}

export interface SecurityGroupState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly rules: readonly SecurityGroupRule[];
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export const initialSecurityGroup = (): SecurityGroupState => ({
  exists: false,
  deleted: false,
  id: '',
  projectId: '',
  name: '',
  description: '',
  rules: [],
  createdAt: null,
  updatedAt: null,
});

export const securityGroupNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'SecurityGroupNotFound', `Security group ${id} does not exist`);

export const securityGroupRuleNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);

export function evolveSecurityGroup(state: SecurityGroupState, event: DecodedEvent): SecurityGroupState {
  if (!isKnownEvent(event)) return state;
  const at = event.metadata.occurredAt;
  const known = event as SecurityGroupEvent;
  switch (known.type) {
    case 'SecurityGroupCreated': {
      const { securityGroupId, projectId, name, description } = known.data;
      return {
        ...initialSecurityGroup(),
        exists: true,
        id: securityGroupId,
        projectId,
        name,
        description,
        createdAt: at,
        updatedAt: at,
      };
    }
    case 'SecurityGroupUpdated': {
      const { name, description } = known.data;
      return {
        ...state,
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
        updatedAt: at,
      };
    }
    case 'SecurityGroupDeleted':
      return { ...state, deleted: true, updatedAt: at };
    case 'SecurityGroupRuleAdded': {
      const { ruleId, ...fields } = known.data;
      return { ...state, rules: [...state.rules, { ...fields, id: ruleId, createdAt: at }], updatedAt: at };
    }
    case 'SecurityGroupRuleRemoved':
      return { ...state, rules: state.rules.filter((rule) => rule.id !== known.data.ruleId), updatedAt: at };
  }
  return state;
}

export const securityGroupReducer = { initial: initialSecurityGroup, evolve: evolveSecurityGroup };

export type RuleRequest = Omit<Plain<SecurityGroupRuleAdded>, 'securityGroupId'>;

/** The protocols whose rules may name a port range (ICMP's are a type and a code). */
const PORTED: ReadonlySet<RuleProtocol | null> = new Set(['tcp', 'udp', 'sctp', '6', '17', '132']);
const ICMP: ReadonlySet<RuleProtocol | null> = new Set(['icmp', 'ipv6-icmp', 'icmpv6', '1', '58']);
const ICMP6: ReadonlySet<RuleProtocol | null> = new Set(['ipv6-icmp', 'icmpv6', '58']);

/** The rule as Neutron keeps it, or Neutron's 400 for an inconsistent one. */
function checkedRule(securityGroupId: string, rule: RuleRequest): Plain<SecurityGroupRuleAdded> {
  const { portRangeMin: min, portRangeMax: max } = rule;
  const refuse = (type: string, message: string): never => {
    throw new NetworkError('BadRequest', type, message);
  };
  for (const port of [min, max]) {
    if (port !== null && (port < 0 || port > 65535)) {
      refuse('SecurityGroupInvalidPortValue', `Invalid value for port ${port}`);
    }
  }
  if (min !== null || max !== null) {
    if (rule.protocol === null) {
      refuse('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
    } else if (!PORTED.has(rule.protocol) && !ICMP.has(rule.protocol)) {
      refuse(
        'SecurityGroupInvalidProtocolForPort',
        `Invalid protocol ${rule.protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.`,
      );
    }
  }
  if (PORTED.has(rule.protocol)) {
    if ((min === null) !== (max === null) || (min !== null && max !== null && min > max)) {
      refuse(
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      );
    }
    if (min === 0 || max === 0) refuse('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
  }
  if (ICMP.has(rule.protocol)) {
    if (min !== null && min > 255) {
      refuse(
        'SecurityGroupInvalidIcmpValue',
        `Invalid value for ICMP type (port_range_min) ${min}. It must be 0 to 255.`,
      );
    }
    if (max !== null && max > 255) {
      refuse(
        'SecurityGroupInvalidIcmpValue',
        `Invalid value for ICMP code (port_range_max) ${max}. It must be 0 to 255.`,
      );
    }
    if (min === null && max !== null) {
      refuse(
        'SecurityGroupMissingIcmpType',
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
      );
    }
  }
  if (ICMP6.has(rule.protocol) && rule.ethertype === 'IPv4') {
    throw new NetworkError(
      'BadRequest',
      'SecurityGroupEthertypeConflictWithProtocol',
      `Ethertype IPv4 is not supported by protocol ${rule.protocol ?? ''}.`,
    );
  }
  let remoteIpPrefix = rule.remoteIpPrefix;
  if (remoteIpPrefix !== null) {
    if (rule.remoteGroupId !== null) {
      throw new NetworkError(
        'BadRequest',
        'SecurityGroupRemoteGroupAndRemoteIpPrefix',
        'Only remote_ip_prefix or remote_group_id may be provided.',
      );
    }
    // Neutron keeps the prefix a host address is in: 10.0.0.5/24 is stored as 10.0.0.0/24.
    const parsed = parsePrefix(remoteIpPrefix);
    const normal =
      'error' in parsed && parsed.error === 'host-bits' ? parsePrefix(parsed.recommended) : parsed;
    if (!('prefix' in normal)) {
      throw new NetworkError(
        'BadRequest',
        'InvalidInput',
        `Invalid input for operation: '${remoteIpPrefix}' is not a valid IP prefix.`,
      );
    }
    const version = normal.prefix.version === 4 ? 'IPv4' : 'IPv6';
    if (version !== rule.ethertype) {
      throw new NetworkError(
        'BadRequest',
        'SecurityGroupRuleParameterConflict',
        `Conflicting value ethertype ${rule.ethertype} for CIDR ${remoteIpPrefix}`,
      );
    }
    remoteIpPrefix = formatPrefix(normal.prefix);
  }
  return { ...rule, securityGroupId, remoteIpPrefix };
}

const SAME_RULE: readonly (keyof RuleRequest & keyof SecurityGroupRule)[] = [
  'direction',
  'ethertype',
  'protocol',
  'portRangeMin',
  'portRangeMax',
  'remoteIpPrefix',
  'remoteGroupId',
];

/** What makes two rules the same, as Neutron compares them: an all-addresses prefix is no prefix. */
function ruleKey(rule: Pick<SecurityGroupRule, (typeof SAME_RULE)[number]>): string {
  const anywhere = rule.remoteIpPrefix === '0.0.0.0/0' || rule.remoteIpPrefix === '::/0';
  return JSON.stringify(SAME_RULE.map((key) => (key === 'remoteIpPrefix' && anywhere ? null : rule[key])));
}

function ruleAdded(state: SecurityGroupState, rule: Plain<SecurityGroupRuleAdded>): SecurityGroupRuleAdded {
  const key = ruleKey(rule);
  const duplicate = state.rules.find((existing) => ruleKey(existing) === key);
  if (duplicate) {
    throw new NetworkError(
      'Conflict',
      'SecurityGroupRuleExists',
      `Security group rule already exists. Rule id is ${duplicate.id}.`,
    );
  }
  return build(SecurityGroupRuleAdded, rule);
}

/**
 * Neutron's starting rules: every group lets all traffic out (IPv4 and IPv6); a `default` group also lets
 * in what comes from members of the same group. `ruleIds` holds at least four fresh ids.
 */
function startingRules(
  securityGroupId: string,
  isDefault: boolean,
  ruleIds: readonly string[],
): RuleRequest[] {
  const open = {
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    description: '',
  };
  const rules: Omit<RuleRequest, 'ruleId'>[] = [
    { ...open, direction: 'egress', ethertype: 'IPv4', remoteGroupId: null },
    { ...open, direction: 'egress', ethertype: 'IPv6', remoteGroupId: null },
    ...(isDefault
      ? [
          {
            ...open,
            direction: 'ingress' as const,
            ethertype: 'IPv4' as const,
            remoteGroupId: securityGroupId,
          },
          {
            ...open,
            direction: 'ingress' as const,
            ethertype: 'IPv6' as const,
            remoteGroupId: securityGroupId,
          },
        ]
      : []),
  ];
  return rules.map((rule, index) => {
    const ruleId = ruleIds[index];
    if (ruleId === undefined) throw new Error('startingRules needs four rule ids');
    return { ...rule, ruleId };
  });
}

export function decideCreateSecurityGroup(
  state: SecurityGroupState,
  group: Plain<SecurityGroupCreated>,
  ruleIds: readonly string[],
): (SecurityGroupCreated | SecurityGroupRuleAdded)[] {
  if (state.exists) {
    throw new NetworkError(
      'Conflict',
      'SecurityGroupExists',
      `Security group ${group.securityGroupId} already exists.`,
    );
  }
  const created = build(SecurityGroupCreated, group);
  const rules = startingRules(group.securityGroupId, group.name === DEFAULT_SECURITY_GROUP, ruleIds);
  return [
    created,
    ...rules.map((rule) =>
      build(SecurityGroupRuleAdded, { ...rule, securityGroupId: group.securityGroupId }),
    ),
  ];
}

export type SecurityGroupChanges = Omit<Plain<SecurityGroupUpdated>, 'securityGroupId'>;

export function decideUpdateSecurityGroup(
  state: SecurityGroupState,
  changes: SecurityGroupChanges,
  isDefault: boolean,
): SecurityGroupUpdated[] {
  if (!isLive(state)) throw securityGroupNotFound(state.id);
  if (isDefault && changes.name !== undefined && changes.name !== DEFAULT_SECURITY_GROUP) {
    throw new NetworkError(
      'Conflict',
      'SecurityGroupCannotUpdateDefault',
      'Updating default security group not allowed.',
    );
  }
  const name = changes.name !== undefined && changes.name !== state.name ? changes.name : undefined;
  const description =
    changes.description !== undefined && changes.description !== state.description
      ? changes.description
      : undefined;
  if (name === undefined && description === undefined) return [];
  return [
    build(SecurityGroupUpdated, {
      securityGroupId: state.id,
      ...(name === undefined ? {} : { name }),
      ...(description === undefined ? {} : { description }),
    }),
  ];
}

/**
 * Neutron refuses to delete a project's default group to anyone but an admin, and any group a port
 * still uses (`inUse`, from the caller's view of the ports).
 */
export function decideDeleteSecurityGroup(
  state: SecurityGroupState,
  options: { readonly isDefault: boolean; readonly byAdmin: boolean; readonly inUse: boolean },
): SecurityGroupDeleted[] {
  if (!isLive(state)) throw securityGroupNotFound(state.id);
  if (options.isDefault && !options.byAdmin) {
    throw new NetworkError(
      'Conflict',
      'SecurityGroupCannotRemoveDefault',
      'Removing default security group not allowed.',
    );
  }
  if (options.inUse) {
    throw new NetworkError('Conflict', 'SecurityGroupInUse', `Security Group ${state.id} in use.`);
  }
  return [build(SecurityGroupDeleted, { securityGroupId: state.id })];
}

export function decideAddRule(state: SecurityGroupState, rule: RuleRequest): SecurityGroupRuleAdded[] {
  if (!isLive(state)) throw securityGroupNotFound(state.id);
  return [ruleAdded(state, checkedRule(state.id, rule))];
}

export function decideRemoveRule(state: SecurityGroupState, ruleId: string): SecurityGroupRuleRemoved[] {
  if (!isLive(state) || !state.rules.some((rule) => rule.id === ruleId))
    throw securityGroupRuleNotFound(ruleId);
  return [build(SecurityGroupRuleRemoved, { securityGroupId: state.id, ruleId })];
}
