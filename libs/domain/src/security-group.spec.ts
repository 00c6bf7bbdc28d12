import { randomUUID } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { SecurityGroupCreated, SecurityGroupDeleted, build, eventTypeOf } from '#libs/contracts';

import { NetworkError } from './network.js';
import {
  DEFAULT_SECURITY_GROUP,
  type RuleRequest,
  type SecurityGroupState,
  decideAddRule,
  decideCreateSecurityGroup,
  decideDeleteSecurityGroup,
  decideRemoveRule,
  decideUpdateSecurityGroup,
  initialSecurityGroup,
  securityGroupReducer,
} from './security-group.js';
import { envelope, foldAll } from './testing/given.js';

// ---------------------------------------------------------------------------------------------------------
// Given: a group's history, told as the events its decisions produced.
// ---------------------------------------------------------------------------------------------------------

const given = (...events: object[]): SecurityGroupState => foldAll(securityGroupReducer, events);

const ruleIds = (): string[] => [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

/** A group's creation (with its starting rules) and the ids those rules were given. */
function groupStory(name: string, description = '') {
  const securityGroupId = randomUUID();
  const ids = ruleIds();
  const group = build(SecurityGroupCreated, { securityGroupId, projectId: 'p-1', name, description });
  const events = decideCreateSecurityGroup(initialSecurityGroup(), group, ids);
  return { securityGroupId, ids, group, history: events as object[] };
}

/** An ingress IPv4 rule from anywhere on any protocol, with a fresh id; `overrides` shape the rest. */
const rule = (overrides: Partial<RuleRequest> = {}): RuleRequest => ({
  ruleId: randomUUID(),
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  portRangeMin: null,
  portRangeMax: null,
  remoteIpPrefix: null,
  remoteGroupId: null,
  description: '',
  ...overrides,
});

const then = (
  history: readonly object[],
  decide: (state: SecurityGroupState) => readonly object[],
): object[] => [...history, ...decide(given(...history))];

/** The refusal `decide` throws, as the API sees it: its code, Neutron type and message. */
function refusal(decide: () => unknown): { code: string; type: string; message: string } {
  try {
    decide();
  } catch (error) {
    if (error instanceof NetworkError) return { code: error.code, type: error.type, message: error.message };
    throw error;
  }
  throw new Error('expected the decision to be refused, but it was not');
}

/** The events as plain data with their type names, to compare whole. */
const plain = (events: readonly object[]) => events.map((event) => ({ type: eventTypeOf(event), ...event }));

// ---------------------------------------------------------------------------------------------------------
// Creation and starting rules
// ---------------------------------------------------------------------------------------------------------

describe('security groups: creation and starting rules', () => {
  it('gives a group named default two open egress rules and two ingress rules from its own members', () => {
    const { securityGroupId, ids, history } = groupStory(DEFAULT_SECURITY_GROUP, 'Default security group');
    const open = {
      protocol: null,
      portRangeMin: null,
      portRangeMax: null,
      remoteIpPrefix: null,
      description: '',
    };
    expect(plain(history)).toEqual([
      {
        type: 'SecurityGroupCreated',
        securityGroupId,
        projectId: 'p-1',
        name: 'default',
        description: 'Default security group',
      },
      {
        type: 'SecurityGroupRuleAdded',
        securityGroupId,
        ruleId: ids[0],
        direction: 'egress',
        ethertype: 'IPv4',
        remoteGroupId: null,
        ...open,
      },
      {
        type: 'SecurityGroupRuleAdded',
        securityGroupId,
        ruleId: ids[1],
        direction: 'egress',
        ethertype: 'IPv6',
        remoteGroupId: null,
        ...open,
      },
      {
        type: 'SecurityGroupRuleAdded',
        securityGroupId,
        ruleId: ids[2],
        direction: 'ingress',
        ethertype: 'IPv4',
        remoteGroupId: securityGroupId,
        ...open,
      },
      {
        type: 'SecurityGroupRuleAdded',
        securityGroupId,
        ruleId: ids[3],
        direction: 'ingress',
        ethertype: 'IPv6',
        remoteGroupId: securityGroupId,
        ...open,
      },
    ]);
  });

  it('gives a group of any other name only the two open egress rules', () => {
    const { securityGroupId, ids, history } = groupStory('web');
    expect(plain(history)).toEqual([
      { type: 'SecurityGroupCreated', securityGroupId, projectId: 'p-1', name: 'web', description: '' },
      expect.objectContaining({
        ruleId: ids[0],
        direction: 'egress',
        ethertype: 'IPv4',
        remoteGroupId: null,
      }),
      expect.objectContaining({
        ruleId: ids[1],
        direction: 'egress',
        ethertype: 'IPv6',
        remoteGroupId: null,
      }),
    ]);
  });

  it('treats only the exact name default as the default group', () => {
    expect(groupStory('Default').history).toHaveLength(3);
    expect(groupStory('default ').history).toHaveLength(3);
  });

  it('needs only two rule ids for a group that is not default', () => {
    const securityGroupId = randomUUID();
    const group = build(SecurityGroupCreated, {
      securityGroupId,
      projectId: 'p-1',
      name: 'web',
      description: '',
    });
    expect(
      decideCreateSecurityGroup(initialSecurityGroup(), group, [randomUUID(), randomUUID()]),
    ).toHaveLength(3);
  });

  it('folds the group and its rules, each rule with its creation time', () => {
    const { securityGroupId, ids, history } = groupStory('default', 'd');
    const envelopes = history.map((event) => envelope(event));
    const state = envelopes.reduce(
      (folded, event) => securityGroupReducer.evolve(folded, event),
      securityGroupReducer.initial(),
    );
    expect(state).toMatchObject({
      exists: true,
      deleted: false,
      id: securityGroupId,
      projectId: 'p-1',
      name: 'default',
      description: 'd',
      createdAt: envelopes[0]!.metadata.occurredAt,
      updatedAt: envelopes[4]!.metadata.occurredAt,
    });
    expect(state.rules.map((folded) => folded.id)).toEqual(ids);
    expect(state.rules[2]).toEqual({
      id: ids[2],
      securityGroupId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: null,
      portRangeMin: null,
      portRangeMax: null,
      remoteIpPrefix: null,
      remoteGroupId: securityGroupId,
      description: '',
      createdAt: envelopes[3]!.metadata.occurredAt,
    });
  });

  it('refuses to create a group that exists: SecurityGroupExists', () => {
    const { securityGroupId, group, history } = groupStory('web');
    expect(refusal(() => decideCreateSecurityGroup(given(...history), group, ruleIds()))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupExists',
      message: `Security group ${securityGroupId} already exists.`,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------------------

describe('security groups: adding rules', () => {
  const { securityGroupId, ids, history } = groupStory('default');
  const state = given(...history);

  it('adds a consistent rule to the group, and folds it', () => {
    const ssh = rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, description: 'ssh' });
    const events = decideAddRule(state, ssh);
    expect(plain(events)).toEqual([{ type: 'SecurityGroupRuleAdded', securityGroupId, ...ssh }]);
    const folded = given(...history, ...events);
    expect(folded.rules).toHaveLength(5);
    expect(folded.rules[4]).toMatchObject({
      id: ssh.ruleId,
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
    });
  });

  it('refuses a rule that repeats a starting rule, naming it: SecurityGroupRuleExists', () => {
    const again = rule({ direction: 'egress', ethertype: 'IPv6', description: 'other words, same rule' });
    expect(refusal(() => decideAddRule(state, again))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${ids[1]}.`,
    });
    const fromMembers = rule({ remoteGroupId: securityGroupId });
    expect(refusal(() => decideAddRule(state, fromMembers)).message).toBe(
      `Security group rule already exists. Rule id is ${ids[2]}.`,
    );
  });

  it('refuses a rule that repeats one added earlier, naming that one', () => {
    const http = rule({ protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 });
    const withHttp = given(...then(history, (before) => decideAddRule(before, http)));
    const again = { ...http, ruleId: randomUUID() };
    expect(refusal(() => decideAddRule(withHttp, again))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${http.ruleId}.`,
    });
  });

  it('accepts rules that differ from an existing one in any compared field', () => {
    const http = rule({ protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: '10.0.0.1/8' });
    const withHttp = given(...then(history, (before) => decideAddRule(before, http)));
    const variants: Partial<RuleRequest>[] = [
      { direction: 'egress' },
      { protocol: 'udp' },
      { portRangeMax: 81 },
      { portRangeMin: 79 },
      { remoteIpPrefix: '10.0.0.1/9' },
      { ethertype: 'IPv6', remoteIpPrefix: 'fd00::1/8' },
      { remoteIpPrefix: null, remoteGroupId: securityGroupId },
    ];
    for (const variant of variants) {
      expect(decideAddRule(withHttp, { ...http, ruleId: randomUUID(), ...variant })).toHaveLength(1);
    }
  });

  it('refuses a port range without a protocol: SecurityGroupProtocolRequiredWithPorts', () => {
    expect(refusal(() => decideAddRule(state, rule({ portRangeMin: 22, portRangeMax: 22 })))).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupProtocolRequiredWithPorts',
      message: 'Must also specify protocol if port range is given.',
    });
    expect(refusal(() => decideAddRule(state, rule({ portRangeMax: 22 }))).type).toBe(
      'SecurityGroupProtocolRequiredWithPorts',
    );
  });

  it('refuses a port range on a protocol that has no ports: SecurityGroupInvalidProtocolForPort', () => {
    const gre = rule({ protocol: 'gre', portRangeMin: 1, portRangeMax: 2 });
    expect(refusal(() => decideAddRule(state, gre))).toMatchObject({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidProtocolForPort',
    });
  });

  it.each(['tcp', 'udp', 'sctp'] as const)('refuses a %s range whose min exceeds its max', (protocol) => {
    expect(
      refusal(() => decideAddRule(state, rule({ protocol, portRangeMin: 443, portRangeMax: 80 }))),
    ).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidPortRange',
      message: 'For TCP/UDP protocols, port_range_min must be <= port_range_max',
    });
  });

  it('accepts a single port, min equal to max, and a full range', () => {
    expect(
      decideAddRule(state, rule({ protocol: 'tcp', portRangeMin: 443, portRangeMax: 443 })),
    ).toHaveLength(1);
    expect(
      decideAddRule(state, rule({ protocol: 'udp', portRangeMin: 1, portRangeMax: 65535 })),
    ).toHaveLength(1);
    expect(decideAddRule(state, rule({ protocol: 'tcp' }))).toHaveLength(1);
  });

  it('refuses port 0 for a protocol with ports: SecurityGroupInvalidPortValue', () => {
    expect(
      refusal(() => decideAddRule(state, rule({ protocol: 'tcp', portRangeMin: 0, portRangeMax: 10 }))),
    ).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidPortValue',
      message: 'Invalid value for port 0',
    });
  });

  it('refuses a tcp rule with only one end of its port range, as Neutron does', () => {
    expect(refusal(() => decideAddRule(state, rule({ protocol: 'tcp', portRangeMin: 22 })))).toMatchObject({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidPortRange',
    });
    expect(refusal(() => decideAddRule(state, rule({ protocol: 'tcp', portRangeMax: 22 })))).toMatchObject({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidPortRange',
    });
  });

  it('takes an ICMP rule’s range as a type and a code, not as a range of ports', () => {
    // Echo request is type 8, code 0: min above max is fine here.
    const ping = rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 });
    expect(decideAddRule(state, ping)).toHaveLength(1);
    const ping6 = rule({ protocol: 'ipv6-icmp', ethertype: 'IPv6', portRangeMin: 128, portRangeMax: 0 });
    expect(decideAddRule(state, ping6)).toHaveLength(1);
  });

  it('refuses an ICMP type above 255: SecurityGroupInvalidIcmpValue', () => {
    expect(refusal(() => decideAddRule(state, rule({ protocol: 'icmp', portRangeMin: 256 })))).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidIcmpValue',
      message: 'Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255.',
    });
  });

  it('refuses an ICMP code above 255, as Neutron does', () => {
    expect(
      refusal(() => decideAddRule(state, rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 256 }))),
    ).toMatchObject({ code: 'BadRequest', type: 'SecurityGroupInvalidIcmpValue' });
  });

  it('refuses an ICMP code without a type, as Neutron does: SecurityGroupMissingIcmpType', () => {
    expect(refusal(() => decideAddRule(state, rule({ protocol: 'icmp', portRangeMax: 0 })))).toMatchObject({
      code: 'BadRequest',
      type: 'SecurityGroupMissingIcmpType',
    });
  });

  it('refuses ipv6-icmp on an IPv4 rule', () => {
    expect(refusal(() => decideAddRule(state, rule({ protocol: 'ipv6-icmp', ethertype: 'IPv4' })))).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupEthertypeConflictWithProtocol',
      message: 'Ethertype IPv4 is not supported by protocol ipv6-icmp.',
    });
  });

  it('refuses a remote prefix of the other ether type: SecurityGroupRuleParameterConflict', () => {
    expect(
      refusal(() => decideAddRule(state, rule({ ethertype: 'IPv4', remoteIpPrefix: 'fd00::1/64' }))),
    ).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupRuleParameterConflict',
      message: 'Conflicting value ethertype IPv4 for CIDR fd00::1/64',
    });
    expect(
      refusal(() => decideAddRule(state, rule({ ethertype: 'IPv6', remoteIpPrefix: '10.0.0.1/8' }))).type,
    ).toBe('SecurityGroupRuleParameterConflict');
  });

  it('keeps the prefix a remote address with host bits is in: 10.0.0.5/24 becomes 10.0.0.0/24', () => {
    const [added] = decideAddRule(state, rule({ remoteIpPrefix: '10.0.0.5/24' }));
    expect(added!.remoteIpPrefix).toBe('10.0.0.0/24');
    const [added6] = decideAddRule(state, rule({ ethertype: 'IPv6', remoteIpPrefix: 'fd00::1/64' }));
    expect(added6!.remoteIpPrefix).toBe('fd00::/64');
  });

  it('finds a duplicate through the normalised prefix', () => {
    const first = rule({
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: '10.0.0.9/24',
    });
    const withFirst = given(...then(history, (before) => decideAddRule(before, first)));
    const hostBits = { ...first, ruleId: randomUUID(), remoteIpPrefix: '10.0.0.77/24' };
    expect(refusal(() => decideAddRule(withFirst, hostBits))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${first.ruleId}.`,
    });
  });

  it('accepts a remote prefix written without host bits, as most are', () => {
    const [v4] = decideAddRule(
      state,
      rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.0.0.0/24' }),
    );
    expect(v4!.remoteIpPrefix).toBe('10.0.0.0/24');
    const [anywhere] = decideAddRule(
      state,
      rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' }),
    );
    expect(anywhere!.remoteIpPrefix).toBe('0.0.0.0/0');
    const [v6] = decideAddRule(state, rule({ ethertype: 'IPv6', remoteIpPrefix: 'fd00::/64' }));
    expect(v6!.remoteIpPrefix).toBe('fd00::/64');
    const [host] = decideAddRule(state, rule({ remoteIpPrefix: '192.0.2.7/32' }));
    expect(host!.remoteIpPrefix).toBe('192.0.2.7/32');
  });

  it('refuses a remote prefix without host bits of the other ether type: SecurityGroupRuleParameterConflict', () => {
    expect(
      refusal(() => decideAddRule(state, rule({ ethertype: 'IPv4', remoteIpPrefix: 'fd00::/64' }))),
    ).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupRuleParameterConflict',
      message: 'Conflicting value ethertype IPv4 for CIDR fd00::/64',
    });
  });

  it('finds a duplicate of a rule whose prefix had no host bits through the normalised prefix', () => {
    const first = rule({
      protocol: 'udp',
      portRangeMin: 53,
      portRangeMax: 53,
      remoteIpPrefix: '10.0.0.0/24',
    });
    const withFirst = given(...then(history, (before) => decideAddRule(before, first)));
    const hostBits = { ...first, ruleId: randomUUID(), remoteIpPrefix: '10.0.0.77/24' };
    expect(refusal(() => decideAddRule(withFirst, hostBits)).message).toBe(
      `Security group rule already exists. Rule id is ${first.ruleId}.`,
    );
  });

  it('takes 0.0.0.0/0 as the same remote as none when it looks for duplicates, as Neutron does', () => {
    const anywhere = rule({ direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' });
    expect(refusal(() => decideAddRule(state, anywhere))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${ids[0]}.`,
    });
  });

  it('refuses a remote prefix that is not one', () => {
    expect(refusal(() => decideAddRule(state, rule({ remoteIpPrefix: 'everywhere' })))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: "Invalid input for operation: 'everywhere' is not a valid IP prefix.",
    });
    expect(refusal(() => decideAddRule(state, rule({ remoteIpPrefix: '10.0.0.0/33' }))).type).toBe(
      'InvalidInput',
    );
  });

  it('refuses a remote prefix and a remote group together', () => {
    const both = rule({ remoteIpPrefix: '10.0.0.0/24', remoteGroupId: securityGroupId });
    expect(refusal(() => decideAddRule(state, both))).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupRemoteGroupAndRemoteIpPrefix',
      message: 'Only remote_ip_prefix or remote_group_id may be provided.',
    });
  });

  it('refuses a rule on a group that does not exist or was deleted', () => {
    expect(refusal(() => decideAddRule(initialSecurityGroup(), rule())).type).toBe('SecurityGroupNotFound');
    const deleted = given(...history, build(SecurityGroupDeleted, { securityGroupId }));
    expect(refusal(() => decideAddRule(deleted, rule({ protocol: 'tcp' })))).toEqual({
      code: 'NotFound',
      type: 'SecurityGroupNotFound',
      message: `Security group ${securityGroupId} does not exist`,
    });
  });
});

describe('security groups: removing rules', () => {
  const { securityGroupId, ids, history } = groupStory('web');

  it('removes a rule the group has, and folds it away', () => {
    const events = decideRemoveRule(given(...history), ids[0]!);
    expect(plain(events)).toEqual([{ type: 'SecurityGroupRuleRemoved', securityGroupId, ruleId: ids[0] }]);
    const state = given(...history, ...events);
    expect(state.rules.map((kept) => kept.id)).toEqual([ids[1]]);
    // Removed, the rule may be added again.
    const again = rule({ direction: 'egress', ethertype: 'IPv4' });
    expect(decideAddRule(state, again)).toHaveLength(1);
  });

  it('refuses to remove a rule the group does not have: SecurityGroupRuleNotFound', () => {
    const unknown = randomUUID();
    expect(refusal(() => decideRemoveRule(given(...history), unknown))).toEqual({
      code: 'NotFound',
      type: 'SecurityGroupRuleNotFound',
      message: `Security group rule ${unknown} does not exist`,
    });
    // ids[2] was never used: a group that is not default starts with two rules.
    expect(refusal(() => decideRemoveRule(given(...history), ids[2]!)).type).toBe(
      'SecurityGroupRuleNotFound',
    );
  });

  it('refuses to remove a rule twice', () => {
    const removed = given(...then(history, (state) => decideRemoveRule(state, ids[1]!)));
    expect(refusal(() => decideRemoveRule(removed, ids[1]!)).type).toBe('SecurityGroupRuleNotFound');
  });

  it('refuses to remove a rule of a deleted group', () => {
    const deleted = given(...history, build(SecurityGroupDeleted, { securityGroupId }));
    expect(refusal(() => decideRemoveRule(deleted, ids[0]!)).type).toBe('SecurityGroupRuleNotFound');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Updates and deletion
// ---------------------------------------------------------------------------------------------------------

describe('security groups: updates', () => {
  const { securityGroupId, history } = groupStory('web', 'web servers');

  it('emits only what an update changes, and folds it', () => {
    const state = given(...history);
    const events = decideUpdateSecurityGroup(state, { name: 'www', description: 'web servers' }, false);
    expect(plain(events)).toEqual([{ type: 'SecurityGroupUpdated', securityGroupId, name: 'www' }]);
    const described = decideUpdateSecurityGroup(state, { description: 'front end' }, false);
    expect(plain(described)).toEqual([
      { type: 'SecurityGroupUpdated', securityGroupId, description: 'front end' },
    ]);
    const folded = envelope(events[0]!);
    const after = securityGroupReducer.evolve(state, folded);
    expect(after).toMatchObject({
      name: 'www',
      description: 'web servers',
      updatedAt: folded.metadata.occurredAt,
    });
    expect(after.rules).toHaveLength(2);
  });

  it('emits nothing when an update changes nothing', () => {
    const state = given(...history);
    expect(decideUpdateSecurityGroup(state, {}, false)).toEqual([]);
    expect(decideUpdateSecurityGroup(state, { name: 'web', description: 'web servers' }, false)).toEqual([]);
  });

  it('refuses to rename the default group, but lets its description change', () => {
    const story = groupStory('default', 'Default security group');
    const state = given(...story.history);
    expect(refusal(() => decideUpdateSecurityGroup(state, { name: 'not-default' }, true))).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupCannotUpdateDefault',
      message: 'Updating default security group not allowed.',
    });
    expect(decideUpdateSecurityGroup(state, { name: 'default' }, true)).toEqual([]);
    expect(plain(decideUpdateSecurityGroup(state, { description: 'mine' }, true))).toEqual([
      { type: 'SecurityGroupUpdated', securityGroupId: story.securityGroupId, description: 'mine' },
    ]);
  });

  it('refuses to update a group that does not exist or was deleted', () => {
    expect(refusal(() => decideUpdateSecurityGroup(initialSecurityGroup(), { name: 'x' }, false)).type).toBe(
      'SecurityGroupNotFound',
    );
    const deleted = given(...history, build(SecurityGroupDeleted, { securityGroupId }));
    expect(refusal(() => decideUpdateSecurityGroup(deleted, { name: 'x' }, false))).toEqual({
      code: 'NotFound',
      type: 'SecurityGroupNotFound',
      message: `Security group ${securityGroupId} does not exist`,
    });
  });
});

describe('security groups: deletion', () => {
  it('deletes a group no port uses, after which it is gone', () => {
    const { securityGroupId, history } = groupStory('web');
    const events = decideDeleteSecurityGroup(given(...history), {
      isDefault: false,
      byAdmin: false,
      inUse: false,
    });
    expect(plain(events)).toEqual([{ type: 'SecurityGroupDeleted', securityGroupId }]);
    const state = given(...history, ...events);
    expect(state).toMatchObject({ exists: true, deleted: true });
    expect(
      refusal(() => decideDeleteSecurityGroup(state, { isDefault: false, byAdmin: true, inUse: false })),
    ).toEqual({
      code: 'NotFound',
      type: 'SecurityGroupNotFound',
      message: `Security group ${securityGroupId} does not exist`,
    });
    expect(
      refusal(() =>
        decideCreateSecurityGroup(
          state,
          build(SecurityGroupCreated, {
            securityGroupId,
            projectId: 'p-1',
            name: 'web',
            description: '',
          }),
          ruleIds(),
        ),
      ).type,
    ).toBe('SecurityGroupExists');
  });

  it('refuses to delete the default group to anyone but an admin', () => {
    const { securityGroupId, history } = groupStory('default');
    const state = given(...history);
    expect(
      refusal(() => decideDeleteSecurityGroup(state, { isDefault: true, byAdmin: false, inUse: false })),
    ).toEqual({
      code: 'Conflict',
      type: 'SecurityGroupCannotRemoveDefault',
      message: 'Removing default security group not allowed.',
    });
    expect(plain(decideDeleteSecurityGroup(state, { isDefault: true, byAdmin: true, inUse: false }))).toEqual(
      [{ type: 'SecurityGroupDeleted', securityGroupId }],
    );
  });

  it('refuses to delete a group a port uses, even to an admin', () => {
    const { securityGroupId, history } = groupStory('web');
    const state = given(...history);
    for (const byAdmin of [false, true]) {
      expect(
        refusal(() => decideDeleteSecurityGroup(state, { isDefault: false, byAdmin, inUse: true })),
      ).toEqual({
        code: 'Conflict',
        type: 'SecurityGroupInUse',
        message: `Security Group ${securityGroupId} in use.`,
      });
    }
  });

  it('refuses to delete a group that was never created', () => {
    expect(
      refusal(() =>
        decideDeleteSecurityGroup(initialSecurityGroup(), { isDefault: false, byAdmin: true, inUse: false }),
      ).type,
    ).toBe('SecurityGroupNotFound');
  });
});

describe('security groups: protocols by number and port values', () => {
  it('keeps a protocol given by number as given, with the port rules of the protocol it names', () => {
    const { history } = groupStory('numbers');
    const [udp] = decideAddRule(
      given(...history),
      rule({ protocol: '17', portRangeMin: 53, portRangeMax: 53 }),
    );
    expect(udp).toMatchObject({ protocol: '17', portRangeMin: 53, portRangeMax: 53 });
    expect(
      refusal(() =>
        decideAddRule(given(...history), rule({ protocol: '17', portRangeMin: 60, portRangeMax: 50 })),
      ).type,
    ).toBe('SecurityGroupInvalidPortRange');
    expect(refusal(() => decideAddRule(given(...history), rule({ protocol: '58' }))).type).toBe(
      'SecurityGroupEthertypeConflictWithProtocol',
    );
  });

  it("names a port outside 0-65535 in Neutron's words", () => {
    const { history } = groupStory('ports');
    expect(
      refusal(() =>
        decideAddRule(given(...history), rule({ protocol: 'tcp', portRangeMin: -16, portRangeMax: 80 })),
      ),
    ).toEqual({
      code: 'BadRequest',
      type: 'SecurityGroupInvalidPortValue',
      message: 'Invalid value for port -16',
    });
  });
});
