import { randomUUID } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import {
  KeypairCreated,
  NetworkCreated,
  NetworkDeleted,
  PortCreated,
  PortDeleted,
  PortUpdated,
  SubnetCreated,
  build,
  eventTypeOf,
} from '#libs/contracts';

import {
  canonicalAddress,
  contains,
  defaultPools,
  firstFree,
  formatPrefix,
  fromBigInt,
  overlaps,
  parsePrefix,
  toBigInt,
  versionOf,
} from './ip-ranges.js';
import {
  DHCP_OWNER,
  NetworkError,
  type NetworkState,
  type PortRequest,
  type SubnetRequest,
  decideCreateNetwork,
  decideCreatePort,
  decideCreateSubnet,
  decideDeleteNetwork,
  decideDeletePort,
  decideDeleteSubnet,
  decideReleasePort,
  decideUpdateNetwork,
  decideUpdatePort,
  decideUpdateSubnet,
  dhcpPortOf,
  initialNetwork,
  networkReducer,
} from './network.js';
import { envelope, foldAll } from './testing/given.js';

// ---------------------------------------------------------------------------------------------------------
// Given: a network's history, told as events the decisions below produced.
// ---------------------------------------------------------------------------------------------------------

const networkId = randomUUID();
const created = build(NetworkCreated, {
  networkId,
  projectId: 'p-1',
  name: 'private',
  description: 'tenant network',
  shared: false,
  external: false,
  adminStateUp: true,
  mtu: 1450,
});

const given = (...events: object[]): NetworkState => foldAll(networkReducer, events);

/** A subnet request for `cidr`, its IP version read from the CIDR unless overridden. */
const subnetRequest = (cidr: string, overrides: Partial<SubnetRequest> = {}): SubnetRequest => ({
  subnetId: randomUUID(),
  projectId: 'p-1',
  name: `subnet-${cidr}`,
  description: '',
  ipVersion: cidr.includes(':') ? 6 : 4,
  cidr,
  enableDhcp: true,
  dnsNameservers: [],
  ...overrides,
});

let macs = 0;
/** A port request with a fresh id and MAC, no fixed IPs asked (so the pools decide). */
const portRequest = (overrides: Partial<PortRequest> = {}): PortRequest => {
  macs += 1;
  return {
    portId: randomUUID(),
    projectId: 'p-1',
    name: '',
    description: '',
    macAddress: `fa:16:3e:00:${(macs >> 8).toString(16).padStart(2, '0')}:${(macs & 0xff).toString(16).padStart(2, '0')}`,
    deviceId: '',
    deviceOwner: '',
    adminStateUp: true,
    securityGroupIds: [],
    ...overrides,
  };
};

/** The history with what `decide` makes of its fold appended. */
const then = (history: readonly object[], decide: (state: NetworkState) => readonly object[]): object[] => [
  ...history,
  ...decide(given(...history)),
];

/** A network with one subnet per CIDR, in that order; the subnets' ids by CIDR. */
function networkWith(...cidrs: (string | SubnetRequest)[]): { history: object[]; subnetIds: string[] } {
  let history: object[] = [created];
  const subnetIds: string[] = [];
  for (const cidr of cidrs) {
    const request = typeof cidr === 'string' ? subnetRequest(cidr) : cidr;
    subnetIds.push(request.subnetId);
    history = then(history, (state) => decideCreateSubnet(state, request));
  }
  return { history, subnetIds };
}

/** Creates `count` ports on the network, each taking what the pools give; returns the grown history. */
function withPorts(
  history: readonly object[],
  count: number,
  overrides: Partial<PortRequest> = {},
): object[] {
  let grown = [...history];
  for (let index = 0; index < count; index += 1) {
    grown = then(grown, (state) => decideCreatePort(state, portRequest(overrides)));
  }
  return grown;
}

const addressesOf = (state: NetworkState): string[] =>
  [...state.ports.values()].flatMap((port) => port.fixedIps.map((ip) => ip.ipAddress));

/** The events as plain data with their type names, to compare whole. */
const withTypes = (events: readonly object[]) =>
  events.map((event) => ({ type: eventTypeOf(event), ...event }));

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

// ---------------------------------------------------------------------------------------------------------
// Address arithmetic
// ---------------------------------------------------------------------------------------------------------

describe('ip ranges', () => {
  it('parses IPv4 and IPv6 prefixes to their first and last address', () => {
    const v4 = parsePrefix('10.0.0.0/24');
    expect(v4).toEqual({
      prefix: { version: 4, first: toBigInt('10.0.0.0'), last: toBigInt('10.0.0.255'), length: 24 },
    });
    const v6 = parsePrefix('2001:db8::/64');
    expect(v6).toEqual({
      prefix: {
        version: 6,
        first: toBigInt('2001:db8::'),
        last: toBigInt('2001:db8::ffff:ffff:ffff:ffff'),
        length: 64,
      },
    });
    expect(parsePrefix('0.0.0.0/0')).toEqual({
      prefix: { version: 4, first: 0n, last: 0xffffffffn, length: 0 },
    });
    expect(parsePrefix('10.0.0.7/32')).toEqual({
      prefix: { version: 4, first: toBigInt('10.0.0.7'), last: toBigInt('10.0.0.7'), length: 32 },
    });
  });

  it('refuses a prefix with host bits set, recommending the prefix the address is in', () => {
    expect(parsePrefix('10.0.0.1/24')).toEqual({ error: 'host-bits', recommended: '10.0.0.0/24' });
    expect(parsePrefix('2001:db8::1/64')).toEqual({ error: 'host-bits', recommended: '2001:db8::/64' });
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'nonsense/24', '10.0.0.0/24/1', '10.0.0.0/x', ''])(
    'refuses %j as a prefix',
    (text) => {
      expect(parsePrefix(text)).toEqual({ error: 'invalid' });
    },
  );

  it('formats a prefix back to its canonical text', () => {
    const parsed = parsePrefix('2001:0DB8:0000::/48'.toLowerCase());
    if (!('prefix' in parsed)) throw new Error('expected a prefix');
    expect(formatPrefix(parsed.prefix)).toBe('2001:db8::/48');
  });

  it('converts addresses to numbers and back, and reads their version', () => {
    expect(toBigInt('10.0.0.1')).toBe(0x0a000001n);
    expect(fromBigInt(0x0a000001n, 4)).toBe('10.0.0.1');
    expect(fromBigInt(toBigInt('2001:db8::1'), 6)).toBe('2001:db8::1');
    expect(versionOf('10.0.0.1')).toBe(4);
    expect(versionOf('fe80::1')).toBe(6);
    expect(versionOf('not-an-address')).toBeNull();
    expect(() => toBigInt('not-an-address')).toThrow('not an IP address: not-an-address');
  });

  it('writes an IPv6 address compressed and lowercase, and knows a non-address', () => {
    expect(canonicalAddress('2001:0DB8:0000:0000:0000:0000:0000:0010')).toBe('2001:db8::10');
    expect(canonicalAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('10.0.0.256')).toBeNull();
    expect(canonicalAddress('')).toBeNull();
  });

  it('tells containment and overlap of inclusive ranges', () => {
    const range = { first: 10n, last: 20n };
    expect(contains(range, 10n)).toBe(true);
    expect(contains(range, 20n)).toBe(true);
    expect(contains(range, 21n)).toBe(false);
    expect(overlaps(range, { first: 20n, last: 30n })).toBe(true);
    expect(overlaps(range, { first: 0n, last: 9n })).toBe(false);
    expect(overlaps(range, { first: 12n, last: 13n })).toBe(true);
  });

  it("computes Neutron's default pools: all but the network, IPv4's broadcast and the gateway", () => {
    const prefix = (text: string) => {
      const parsed = parsePrefix(text);
      if (!('prefix' in parsed)) throw new Error(`not a prefix: ${text}`);
      return parsed.prefix;
    };
    const ip = toBigInt;
    expect(defaultPools(prefix('10.0.0.0/24'), ip('10.0.0.1'))).toEqual([
      { first: ip('10.0.0.2'), last: ip('10.0.0.254') },
    ]);
    expect(defaultPools(prefix('10.0.0.0/24'), null)).toEqual([
      { first: ip('10.0.0.1'), last: ip('10.0.0.254') },
    ]);
    expect(defaultPools(prefix('10.0.0.0/24'), ip('10.0.0.100'))).toEqual([
      { first: ip('10.0.0.1'), last: ip('10.0.0.99') },
      { first: ip('10.0.0.101'), last: ip('10.0.0.254') },
    ]);
    expect(defaultPools(prefix('10.0.0.0/24'), ip('10.0.0.254'))).toEqual([
      { first: ip('10.0.0.1'), last: ip('10.0.0.253') },
    ]);
    expect(defaultPools(prefix('10.0.0.0/30'), ip('10.0.0.1'))).toEqual([
      { first: ip('10.0.0.2'), last: ip('10.0.0.2') },
    ]);
    expect(defaultPools(prefix('10.0.0.0/24'), ip('192.168.0.1'))).toEqual([
      { first: ip('10.0.0.1'), last: ip('10.0.0.254') },
    ]);
    expect(defaultPools(prefix('2001:db8::/64'), ip('2001:db8::1'))).toEqual([
      { first: ip('2001:db8::2'), last: ip('2001:db8::ffff:ffff:ffff:ffff') },
    ]);
  });

  it('finds the first free address in range order, or none', () => {
    const ranges = [
      { first: 1n, last: 2n },
      { first: 4n, last: 5n },
    ];
    expect(firstFree(ranges, new Set())).toBe(1n);
    expect(firstFree(ranges, new Set([1n, 2n]))).toBe(4n);
    expect(firstFree(ranges, new Set([1n, 4n]))).toBe(2n);
    expect(firstFree(ranges, new Set([1n, 2n, 4n, 5n]))).toBeNull();
    expect(firstFree([], new Set())).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------------------

describe('network aggregate: networks', () => {
  it('folds a created network with its fields and its creation time', () => {
    const event = envelope(created);
    const state = networkReducer.evolve(networkReducer.initial(), event);
    expect(state).toMatchObject({
      exists: true,
      deleted: false,
      id: networkId,
      projectId: 'p-1',
      name: 'private',
      description: 'tenant network',
      shared: false,
      external: false,
      adminStateUp: true,
      mtu: 1450,
      subnets: [],
      createdAt: event.metadata.occurredAt,
      updatedAt: event.metadata.occurredAt,
    });
    expect(state.ports.size).toBe(0);
  });

  it('starts empty: no network, the defaults of a new one', () => {
    expect(initialNetwork()).toMatchObject({ exists: false, deleted: false, mtu: 1500, adminStateUp: true });
  });

  it('creates a network once; a second create of the same id is NetworkExists', () => {
    expect(decideCreateNetwork(initialNetwork(), created)).toEqual([created]);
    expect(refusal(() => decideCreateNetwork(given(created), created))).toEqual({
      code: 'Conflict',
      type: 'NetworkExists',
      message: `Network ${networkId} already exists.`,
    });
  });

  it('ignores events of other streams and leaves the state as it was', () => {
    const state = given(created);
    const unrelated = build(KeypairCreated, {
      userId: 'u-1',
      name: 'laptop',
      type: 'ssh',
      publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg0yvQ4hG8U2Yx3f1ZbRr4l1rWw2fC7Nn3F0p5J2k9s',
      fingerprint: '4e:1f:a7:2b:9c:0d:63:e8:51:7a:b4:2c:90:de:f3:18',
    });
    expect(networkReducer.evolve(state, envelope(unrelated))).toBe(state);
  });

  it('ignores an update of a port it does not hold', () => {
    const state = given(created);
    const stray = build(PortUpdated, { networkId, portId: randomUUID(), projectId: 'p-1', name: 'x' });
    expect(networkReducer.evolve(state, envelope(stray))).toBe(state);
  });

  it('emits only the fields an update changes, and folds them over the rest', () => {
    const [updated, ...rest] = decideUpdateNetwork(given(created), {
      name: 'renamed',
      description: 'tenant network',
      mtu: 1450,
      adminStateUp: false,
      shared: undefined,
    });
    expect(rest).toEqual([]);
    expect(updated).toEqual({ networkId, name: 'renamed', adminStateUp: false });
    const state = given(created, updated!);
    expect(state).toMatchObject({
      name: 'renamed',
      adminStateUp: false,
      description: 'tenant network',
      mtu: 1450,
      shared: false,
    });
  });

  it('emits nothing when an update changes nothing', () => {
    const state = given(created);
    expect(decideUpdateNetwork(state, {})).toEqual([]);
    expect(decideUpdateNetwork(state, { name: 'private', mtu: 1450, external: false })).toEqual([]);
  });

  it('refuses to update a network that does not exist or was deleted', () => {
    expect(refusal(() => decideUpdateNetwork(initialNetwork(), { name: 'x' }))).toMatchObject({
      code: 'NotFound',
      type: 'NetworkNotFound',
    });
    const deleted = given(created, build(NetworkDeleted, { networkId }));
    expect(refusal(() => decideUpdateNetwork(deleted, { name: 'x' }))).toEqual({
      code: 'NotFound',
      type: 'NetworkNotFound',
      message: `Network ${networkId} could not be found.`,
    });
  });

  it('refuses to delete a network that still has ports: NetworkInUse', () => {
    const { history } = networkWith('10.0.0.0/24');
    const state = given(...withPorts(history, 1));
    expect(refusal(() => decideDeleteNetwork(state, networkId))).toEqual({
      code: 'Conflict',
      type: 'NetworkInUse',
      message: `Unable to complete operation on network ${networkId}. There are one or more ports still in use on the network.`,
    });
  });

  it('deletes a network without ports, its subnets with it; then it is gone', () => {
    const { history } = networkWith('10.0.0.0/24', 'fd00::/64');
    const events = decideDeleteNetwork(given(...history), networkId);
    expect(events).toEqual([build(NetworkDeleted, { networkId })]);
    const state = given(...history, ...events);
    expect(state).toMatchObject({ exists: true, deleted: true, subnets: [] });
    expect(refusal(() => decideDeleteNetwork(state, networkId)).type).toBe('NetworkNotFound');
    expect(refusal(() => decideCreateSubnet(state, subnetRequest('10.1.0.0/24'))).type).toBe(
      'NetworkNotFound',
    );
    expect(refusal(() => decideCreatePort(state, portRequest())).type).toBe('NetworkNotFound');
    expect(refusal(() => decideCreateNetwork(state, created)).type).toBe('NetworkExists');
  });

  it('refuses to delete a network that was never created', () => {
    expect(refusal(() => decideDeleteNetwork(initialNetwork(), networkId))).toEqual({
      code: 'NotFound',
      type: 'NetworkNotFound',
      message: `Network ${networkId} could not be found.`,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Subnets
// ---------------------------------------------------------------------------------------------------------

describe('network aggregate: subnets', () => {
  it('gives an IPv4 /24 the first address as gateway and the rest but the broadcast as its pool', () => {
    const request = subnetRequest('10.0.0.0/24', { dnsNameservers: ['8.8.8.8'] });
    const [event, ...rest] = decideCreateSubnet(given(created), request);
    expect(rest).toEqual([]);
    expect(event).toEqual({
      networkId,
      subnetId: request.subnetId,
      projectId: 'p-1',
      name: request.name,
      description: '',
      ipVersion: 4,
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
      enableDhcp: true,
      dnsNameservers: ['8.8.8.8'],
      hostRoutes: [],
    });
    const folded = envelope(event!);
    const state = networkReducer.evolve(given(created), folded);
    expect(state.subnets).toEqual([
      {
        id: request.subnetId,
        networkId,
        projectId: 'p-1',
        name: request.name,
        description: '',
        ipVersion: 4,
        cidr: '10.0.0.0/24',
        gatewayIp: '10.0.0.1',
        allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
        enableDhcp: true,
        dnsNameservers: ['8.8.8.8'],
        hostRoutes: [],
        createdAt: folded.metadata.occurredAt,
        updatedAt: folded.metadata.occurredAt,
      },
    ]);
    expect(state.updatedAt).toBe(folded.metadata.occurredAt);
  });

  it('gives an IPv4 /30 the gateway .1 and the single address .2 as its pool', () => {
    const [event] = decideCreateSubnet(given(created), subnetRequest('10.0.0.0/30'));
    expect(event).toMatchObject({
      cidr: '10.0.0.0/30',
      gatewayIp: '10.0.0.1',
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.2' }],
    });
  });

  it('gives an IPv6 /64 the gateway ::1 and every later address, the last included, as its pool', () => {
    const [event] = decideCreateSubnet(given(created), subnetRequest('2001:db8::/64'));
    expect(event).toMatchObject({
      ipVersion: 6,
      cidr: '2001:db8::/64',
      gatewayIp: '2001:db8::1',
      allocationPools: [{ start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' }],
    });
  });

  it('keeps an IPv6 CIDR and gateway in canonical lowercase form', () => {
    const [event] = decideCreateSubnet(
      given(created),
      subnetRequest('2001:DB8:0:0::/64', { gatewayIp: '2001:DB8::FFFF' }),
    );
    expect(event).toMatchObject({
      cidr: '2001:db8::/64',
      gatewayIp: '2001:db8::ffff',
      allocationPools: [
        { start: '2001:db8::1', end: '2001:db8::fffe' },
        { start: '2001:db8::1:0', end: '2001:db8::ffff:ffff:ffff:ffff' },
      ],
    });
  });

  it('has no gateway when gateway_ip is null, and pools the first address too', () => {
    const [event] = decideCreateSubnet(given(created), subnetRequest('10.0.0.0/24', { gatewayIp: null }));
    expect(event).toMatchObject({
      gatewayIp: null,
      allocationPools: [{ start: '10.0.0.1', end: '10.0.0.254' }],
    });
  });

  it('splits the default pool around a gateway in the middle of the subnet', () => {
    const [event] = decideCreateSubnet(
      given(created),
      subnetRequest('10.0.0.0/24', { gatewayIp: '10.0.0.100' }),
    );
    expect(event).toMatchObject({
      gatewayIp: '10.0.0.100',
      allocationPools: [
        { start: '10.0.0.1', end: '10.0.0.99' },
        { start: '10.0.0.101', end: '10.0.0.254' },
      ],
    });
  });

  it('keeps the pools a request gives', () => {
    const pools = [
      { start: '10.0.0.10', end: '10.0.0.19' },
      { start: '10.0.0.30', end: '10.0.0.39' },
    ];
    const [event] = decideCreateSubnet(
      given(created),
      subnetRequest('10.0.0.0/24', { allocationPools: pools }),
    );
    expect(event).toMatchObject({ gatewayIp: '10.0.0.1', allocationPools: pools });
  });

  it("refuses a CIDR with host bits set, with Neutron's message recommending the network's own", () => {
    expect(refusal(() => decideCreateSubnet(given(created), subnetRequest('10.0.0.1/24')))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message:
        "Invalid input for operation: '10.0.0.1/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended",
    });
    expect(refusal(() => decideCreateSubnet(given(created), subnetRequest('fd00::1/64'))).message).toBe(
      "Invalid input for operation: 'fd00::1/64' isn't a recognized IP subnet cidr, 'fd00::/64' is recommended",
    );
  });

  it('refuses a CIDR that is not one', () => {
    expect(refusal(() => decideCreateSubnet(given(created), subnetRequest('10.0.0.0/40')))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: "Invalid input for operation: '10.0.0.0/40' is not a valid IP subnet.",
    });
    expect(refusal(() => decideCreateSubnet(given(created), subnetRequest('banana'))).type).toBe(
      'InvalidInput',
    );
  });

  it('refuses a CIDR whose version is not the ip_version asked', () => {
    const v6AsV4 = subnetRequest('fd00::/64', { ipVersion: 4 });
    expect(refusal(() => decideCreateSubnet(given(created), v6AsV4))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: 'Invalid input for operation: Cidr and ip_version are not compatible',
    });
    const v4AsV6 = subnetRequest('10.0.0.0/24', { ipVersion: 6 });
    expect(refusal(() => decideCreateSubnet(given(created), v4AsV6)).type).toBe('InvalidInput');
  });

  it('refuses a subnet that overlaps another on the network, in either direction', () => {
    const { history } = networkWith('10.0.0.0/24');
    const state = given(...history);
    expect(refusal(() => decideCreateSubnet(state, subnetRequest('10.0.0.128/25')))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: `Invalid input for operation: Requested subnet with cidr: 10.0.0.128/25 for network: ${networkId} overlaps with another subnet.`,
    });
    expect(refusal(() => decideCreateSubnet(state, subnetRequest('10.0.0.0/16'))).type).toBe('InvalidInput');
    expect(refusal(() => decideCreateSubnet(state, subnetRequest('10.0.0.0/24'))).type).toBe('InvalidInput');
    expect(decideCreateSubnet(state, subnetRequest('10.0.1.0/24'))).toHaveLength(1);
    expect(decideCreateSubnet(state, subnetRequest('fd00::/64'))).toHaveLength(1);
  });

  it('refuses a gateway outside the subnet, or on its network address', () => {
    const outside = subnetRequest('10.0.0.0/24', { gatewayIp: '10.0.1.1' });
    expect(refusal(() => decideCreateSubnet(given(created), outside))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: 'Invalid input for operation: Gateway IP 10.0.1.1 is not valid on subnet 10.0.0.0/24.',
    });
    const network = subnetRequest('10.0.0.0/24', { gatewayIp: '10.0.0.0' });
    expect(refusal(() => decideCreateSubnet(given(created), network)).type).toBe('InvalidInput');
  });

  it("refuses a gateway on an IPv4 subnet's broadcast address, as Neutron does", () => {
    const broadcast = subnetRequest('10.0.0.0/24', { gatewayIp: '10.0.0.255' });
    expect(refusal(() => decideCreateSubnet(given(created), broadcast))).toMatchObject({
      code: 'BadRequest',
      type: 'InvalidInput',
    });
  });

  it('refuses a gateway that is not an address of the subnet’s version', () => {
    const request = subnetRequest('10.0.0.0/24', { gatewayIp: 'fd00::1' });
    expect(refusal(() => decideCreateSubnet(given(created), request))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: "Invalid input for operation: 'fd00::1' is not a valid IPv4 address for gateway_ip.",
    });
    const garbage = subnetRequest('10.0.0.0/24', { gatewayIp: 'router' });
    expect(refusal(() => decideCreateSubnet(given(created), garbage)).type).toBe('InvalidInput');
  });

  it('refuses a gateway inside an allocation pool: GatewayConflictWithAllocationPools', () => {
    const request = subnetRequest('10.0.0.0/24', {
      gatewayIp: '10.0.0.5',
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.10' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), request))).toEqual({
      code: 'Conflict',
      type: 'GatewayConflictWithAllocationPools',
      message: 'Gateway ip 10.0.0.5 conflicts with allocation pool 10.0.0.2-10.0.0.10',
    });
    const defaultGateway = subnetRequest('10.0.0.0/24', {
      allocationPools: [{ start: '10.0.0.1', end: '10.0.0.10' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), defaultGateway)).type).toBe(
      'GatewayConflictWithAllocationPools',
    );
  });

  it('refuses a pool beyond the subnet, or one that ends before it starts', () => {
    const beyond = subnetRequest('10.0.0.0/24', {
      allocationPools: [{ start: '10.0.0.200', end: '10.0.1.10' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), beyond))).toEqual({
      code: 'BadRequest',
      type: 'InvalidAllocationPool',
      message: 'The allocation pool 10.0.0.200-10.0.1.10 spans beyond the subnet cidr 10.0.0.0/24.',
    });
    const backwards = subnetRequest('10.0.0.0/24', {
      allocationPools: [{ start: '10.0.0.20', end: '10.0.0.10' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), backwards))).toMatchObject({
      code: 'BadRequest',
      type: 'InvalidAllocationPool',
    });
  });

  it("refuses a pool holding an IPv4 subnet's network or broadcast address, as Neutron does", () => {
    const withNetwork = subnetRequest('10.0.0.0/24', {
      gatewayIp: '10.0.0.254',
      allocationPools: [{ start: '10.0.0.0', end: '10.0.0.10' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), withNetwork)).code).toBe('BadRequest');
    const withBroadcast = subnetRequest('10.0.0.0/24', {
      allocationPools: [{ start: '10.0.0.200', end: '10.0.0.255' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), withBroadcast)).code).toBe('BadRequest');
  });

  it('refuses pools that overlap each other', () => {
    const request = subnetRequest('10.0.0.0/24', {
      allocationPools: [
        { start: '10.0.0.10', end: '10.0.0.20' },
        { start: '10.0.0.20', end: '10.0.0.30' },
      ],
    });
    expect(refusal(() => decideCreateSubnet(given(created), request))).toEqual({
      code: 'BadRequest',
      type: 'OverlappingAllocationPools',
      message: 'Found overlapping allocation pools: 10.0.0.10-10.0.0.20',
    });
  });

  it('refuses a pool bound that is not an address of the subnet’s version', () => {
    const request = subnetRequest('10.0.0.0/24', {
      allocationPools: [{ start: 'fd00::2', end: '10.0.0.9' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), request))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: "Invalid input for operation: 'fd00::2' is not a valid IPv4 address for allocation_pools.",
    });
  });

  it('keeps nameservers in canonical form and refuses invalid or duplicate ones', () => {
    const [event] = decideCreateSubnet(
      given(created),
      subnetRequest('10.0.0.0/24', { dnsNameservers: ['2001:DB8::53', '10.0.0.53'] }),
    );
    expect(event).toMatchObject({ dnsNameservers: ['2001:db8::53', '10.0.0.53'] });
    const invalid = subnetRequest('10.0.0.0/24', { dnsNameservers: ['dns.example.com'] });
    expect(refusal(() => decideCreateSubnet(given(created), invalid))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: "Invalid input for operation: 'dns.example.com' is not a valid nameserver.",
    });
    const duplicate = subnetRequest('10.0.0.0/24', { dnsNameservers: ['2001:db8::53', '2001:DB8:0::53'] });
    expect(refusal(() => decideCreateSubnet(given(created), duplicate))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: 'Invalid input for operation: Duplicate nameserver in 2001:db8::53, 2001:DB8:0::53.',
    });
  });

  it('refuses a subnet on a network that does not exist', () => {
    expect(refusal(() => decideCreateSubnet(initialNetwork(), subnetRequest('10.0.0.0/24'))).type).toBe(
      'NetworkNotFound',
    );
  });

  it('emits only the fields a subnet update changes, and folds them', () => {
    const request = subnetRequest('10.0.0.0/24', { dnsNameservers: ['8.8.8.8'] });
    const { history } = networkWith(request);
    const state = given(...history);
    const [updated, ...rest] = decideUpdateSubnet(state, request.subnetId, {
      name: 'renamed',
      description: '',
      enableDhcp: true,
      dnsNameservers: ['8.8.8.8', '1.1.1.1'],
    });
    expect(rest).toEqual([]);
    expect(updated).toEqual({
      networkId,
      subnetId: request.subnetId,
      name: 'renamed',
      dnsNameservers: ['8.8.8.8', '1.1.1.1'],
    });
    const folded = envelope(updated!);
    const after = networkReducer.evolve(state, folded);
    expect(after.subnets[0]).toMatchObject({
      name: 'renamed',
      description: '',
      enableDhcp: true,
      dnsNameservers: ['8.8.8.8', '1.1.1.1'],
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      updatedAt: folded.metadata.occurredAt,
    });
  });

  it('emits nothing when a subnet update changes nothing', () => {
    const request = subnetRequest('10.0.0.0/24', { dnsNameservers: ['8.8.8.8'] });
    const state = given(...networkWith(request).history);
    expect(decideUpdateSubnet(state, request.subnetId, {})).toEqual([]);
    expect(
      decideUpdateSubnet(state, request.subnetId, {
        name: request.name,
        enableDhcp: true,
        dnsNameservers: ['8.8.8.8'],
      }),
    ).toEqual([]);
  });

  it('refuses duplicate nameservers on update as it does on create', () => {
    const request = subnetRequest('10.0.0.0/24');
    const state = given(...networkWith(request).history);
    expect(
      refusal(() => decideUpdateSubnet(state, request.subnetId, { dnsNameservers: ['8.8.8.8', '8.8.8.8'] })),
    ).toMatchObject({ code: 'BadRequest', type: 'InvalidInput' });
  });

  it('refuses to update or delete a subnet the network does not hold', () => {
    const state = given(...networkWith('10.0.0.0/24').history);
    const unknown = randomUUID();
    expect(refusal(() => decideUpdateSubnet(state, unknown, { name: 'x' }))).toEqual({
      code: 'NotFound',
      type: 'SubnetNotFound',
      message: `Subnet ${unknown} could not be found.`,
    });
    expect(refusal(() => decideDeleteSubnet(state, unknown)).type).toBe('SubnetNotFound');
  });

  it('refuses to delete a subnet a port has an address on: SubnetInUse', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24');
    const subnetId = subnetIds[0]!;
    const state = given(...withPorts(history, 1));
    expect(refusal(() => decideDeleteSubnet(state, subnetId))).toEqual({
      code: 'Conflict',
      type: 'SubnetInUse',
      message: `Unable to complete operation on subnet ${subnetId}: One or more ports have an IP allocation from this subnet.`,
    });
  });

  it('deletes a subnet no port uses, after which its CIDR may be used again', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24', 'fd00::/64');
    const v4 = subnetIds[0]!;
    // A port with only an IPv6 address does not hold the IPv4 subnet.
    const withV6Port = then(history, (state) =>
      decideCreatePort(state, portRequest({ fixedIps: [{ subnetId: subnetIds[1]! }] })),
    );
    const events = decideDeleteSubnet(given(...withV6Port), v4);
    expect(events).toEqual([{ networkId, subnetId: v4 }]);
    const state = given(...withV6Port, ...events);
    expect(state.subnets.map((subnet) => subnet.cidr)).toEqual(['fd00::/64']);
    expect(decideCreateSubnet(state, subnetRequest('10.0.0.0/24'))).toHaveLength(1);
    expect(refusal(() => decideDeleteSubnet(state, v4)).type).toBe('SubnetNotFound');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Ports and their addresses
// ---------------------------------------------------------------------------------------------------------

describe('network aggregate: ports and their addresses', () => {
  it('creates a port with the request’s fields on the network, its MAC in lowercase', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24');
    const request = portRequest({
      name: 'nic',
      description: 'first',
      macAddress: 'FA:16:3E:AA:BB:CC',
      deviceId: 'server-1',
      deviceOwner: 'compute:nova',
      securityGroupIds: [randomUUID()],
    });
    const [event, ...rest] = decideCreatePort(given(...history), request);
    expect(rest).toEqual([]);
    expect(event).toEqual({
      networkId,
      portId: request.portId,
      projectId: 'p-1',
      name: 'nic',
      description: 'first',
      macAddress: 'fa:16:3e:aa:bb:cc',
      fixedIps: [{ subnetId: subnetIds[0], ipAddress: '10.0.0.2' }],
      deviceId: 'server-1',
      deviceOwner: 'compute:nova',
      adminStateUp: true,
      securityGroupIds: request.securityGroupIds,
    });
    const folded = envelope(event!);
    const state = networkReducer.evolve(given(...history), folded);
    expect(state.ports.get(request.portId)).toEqual({
      id: request.portId,
      networkId,
      projectId: 'p-1',
      name: 'nic',
      description: 'first',
      macAddress: 'fa:16:3e:aa:bb:cc',
      fixedIps: [{ subnetId: subnetIds[0], ipAddress: '10.0.0.2' }],
      deviceId: 'server-1',
      deviceOwner: 'compute:nova',
      adminStateUp: true,
      securityGroupIds: request.securityGroupIds,
      createdAt: folded.metadata.occurredAt,
      updatedAt: folded.metadata.occurredAt,
    });
  });

  it('gives each port a distinct address in pool order, skipping the gateway', () => {
    const { history } = networkWith('10.0.0.0/24');
    const state = given(...withPorts(history, 4));
    expect(addressesOf(state)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
  });

  it('walks the pools in order around a gateway in the middle, then reports exhaustion', () => {
    // 10.0.0.0/29 with the gateway on .3: pools .1-.2 and .4-.6.
    const { history } = networkWith(subnetRequest('10.0.0.0/29', { gatewayIp: '10.0.0.3' }));
    expect(given(...history).subnets[0]!.allocationPools).toEqual([
      { start: '10.0.0.1', end: '10.0.0.2' },
      { start: '10.0.0.4', end: '10.0.0.6' },
    ]);
    const full = given(...withPorts(history, 5));
    expect(addressesOf(full)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(refusal(() => decideCreatePort(full, portRequest()))).toEqual({
      code: 'Conflict',
      type: 'IpAddressGenerationFailure',
      message: `No more IP addresses available on network ${networkId}.`,
    });
  });

  it('allocates only from the pools a subnet was given', () => {
    const { history } = networkWith(
      subnetRequest('10.0.0.0/24', { allocationPools: [{ start: '10.0.0.100', end: '10.0.0.101' }] }),
    );
    const full = given(...withPorts(history, 2));
    expect(addressesOf(full)).toEqual(['10.0.0.100', '10.0.0.101']);
    expect(refusal(() => decideCreatePort(full, portRequest())).type).toBe('IpAddressGenerationFailure');
  });

  it('reports exhaustion when a subnet asked by id has no address left', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/30');
    const full = given(...withPorts(history, 1));
    expect(
      refusal(() => decideCreatePort(full, portRequest({ fixedIps: [{ subnetId: subnetIds[0]! }] }))).type,
    ).toBe('IpAddressGenerationFailure');
  });

  it('moves on to the next subnet of the version when the first is full', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/30', '10.0.1.0/24');
    const state = given(...withPorts(history, 2));
    expect([...state.ports.values()].map((port) => port.fixedIps)).toEqual([
      [{ subnetId: subnetIds[0], ipAddress: '10.0.0.2' }],
      [{ subnetId: subnetIds[1], ipAddress: '10.0.1.2' }],
    ]);
  });

  it('gives a port one address of each IP version the network has', () => {
    const { history, subnetIds } = networkWith('fd00::/64', '10.0.0.0/24');
    const [event] = decideCreatePort(given(...history), portRequest());
    expect(event!.fixedIps).toEqual([
      { subnetId: subnetIds[1], ipAddress: '10.0.0.2' },
      { subnetId: subnetIds[0], ipAddress: 'fd00::2' },
    ]);
  });

  it('gives a port on a network without subnets no address', () => {
    const [event] = decideCreatePort(given(created), portRequest());
    expect(event!.fixedIps).toEqual([]);
  });

  it('gives a port that asks for no fixed IPs no address', () => {
    const { history } = networkWith('10.0.0.0/24');
    const [event] = decideCreatePort(given(...history), portRequest({ fixedIps: [] }));
    expect(event!.fixedIps).toEqual([]);
  });

  it('gives a port the address it asks for, in a subnet or by subnet id, even outside the pools', () => {
    const { history, subnetIds } = networkWith(
      subnetRequest('10.0.0.0/24', { allocationPools: [{ start: '10.0.0.100', end: '10.0.0.200' }] }),
      'fd00::/64',
    );
    const state = given(...history);
    const [byAddress] = decideCreatePort(state, portRequest({ fixedIps: [{ ipAddress: '10.0.0.7' }] }));
    expect(byAddress!.fixedIps).toEqual([{ subnetId: subnetIds[0], ipAddress: '10.0.0.7' }]);
    const [bySubnet] = decideCreatePort(state, portRequest({ fixedIps: [{ subnetId: subnetIds[1]! }] }));
    expect(bySubnet!.fixedIps).toEqual([{ subnetId: subnetIds[1], ipAddress: 'fd00::2' }]);
    const [both] = decideCreatePort(
      state,
      portRequest({ fixedIps: [{ subnetId: subnetIds[1]!, ipAddress: 'FD00:0::0010' }] }),
    );
    expect(both!.fixedIps).toEqual([{ subnetId: subnetIds[1], ipAddress: 'fd00::10' }]);
  });

  it('skips an address a port asked for when it later allocates from the pool', () => {
    const { history } = networkWith('10.0.0.0/24');
    const asked = then(history, (state) =>
      decideCreatePort(state, portRequest({ fixedIps: [{ ipAddress: '10.0.0.2' }] })),
    );
    const [event] = decideCreatePort(given(...asked), portRequest());
    expect(event!.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.3']);
  });

  it('refuses an address another port holds: IpAddressAlreadyAllocated', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24');
    const state = given(...withPorts(history, 1));
    expect(
      refusal(() => decideCreatePort(state, portRequest({ fixedIps: [{ ipAddress: '10.0.0.2' }] }))),
    ).toEqual({
      code: 'Conflict',
      type: 'IpAddressAlreadyAllocated',
      message: `IP address 10.0.0.2 already allocated in subnet ${subnetIds[0]}`,
    });
  });

  it('refuses the gateway address to a port', () => {
    const { history } = networkWith('10.0.0.0/24');
    expect(
      refusal(() =>
        decideCreatePort(given(...history), portRequest({ fixedIps: [{ ipAddress: '10.0.0.1' }] })),
      ).type,
    ).toBe('IpAddressAlreadyAllocated');
  });

  it('refuses the same address asked twice in one request', () => {
    const { history } = networkWith('10.0.0.0/24');
    const request = portRequest({ fixedIps: [{ ipAddress: '10.0.0.9' }, { ipAddress: '10.0.0.9' }] });
    expect(refusal(() => decideCreatePort(given(...history), request)).type).toBe(
      'IpAddressAlreadyAllocated',
    );
  });

  it('refuses an address outside every subnet of the network: InvalidIpForNetwork', () => {
    const { history } = networkWith('10.0.0.0/24');
    expect(
      refusal(() =>
        decideCreatePort(given(...history), portRequest({ fixedIps: [{ ipAddress: '192.168.0.5' }] })),
      ),
    ).toEqual({
      code: 'BadRequest',
      type: 'InvalidIpForNetwork',
      message: 'IP address 192.168.0.5 is not a valid IP for any of the subnets on the specified network.',
    });
    expect(
      refusal(() =>
        decideCreatePort(given(...history), portRequest({ fixedIps: [{ ipAddress: 'fd00::5' }] })),
      ).type,
    ).toBe('InvalidIpForNetwork');
  });

  it('refuses an address that is not in the subnet the entry names', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24', '10.0.1.0/24');
    const request = portRequest({ fixedIps: [{ subnetId: subnetIds[1]!, ipAddress: '10.0.0.5' }] });
    expect(refusal(() => decideCreatePort(given(...history), request))).toMatchObject({
      code: 'BadRequest',
      type: 'InvalidIpForNetwork',
    });
  });

  it('refuses a subnet id the network does not hold', () => {
    const { history } = networkWith('10.0.0.0/24');
    const unknown = randomUUID();
    const bySubnet = portRequest({ fixedIps: [{ subnetId: unknown }] });
    expect(refusal(() => decideCreatePort(given(...history), bySubnet))).toEqual({
      code: 'NotFound',
      type: 'SubnetNotFound',
      message: `Subnet ${unknown} could not be found.`,
    });
    const withAddress = portRequest({ fixedIps: [{ subnetId: unknown, ipAddress: '10.0.0.5' }] });
    expect(refusal(() => decideCreatePort(given(...history), withAddress)).type).toBe('SubnetNotFound');
  });

  it('refuses a fixed IP entry with neither a subnet nor an address, or an address that is not one', () => {
    const { history } = networkWith('10.0.0.0/24');
    expect(refusal(() => decideCreatePort(given(...history), portRequest({ fixedIps: [{}] })))).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: 'Invalid input for operation: Invalid fixed_ips: an entry names no subnet and no address.',
    });
    expect(
      refusal(() =>
        decideCreatePort(given(...history), portRequest({ fixedIps: [{ ipAddress: '10.0.0.300' }] })),
      ),
    ).toEqual({
      code: 'BadRequest',
      type: 'InvalidInput',
      message: 'Invalid input for operation: 10.0.0.300 is not a valid IP address.',
    });
  });

  it("refuses an IPv4 subnet's network and broadcast addresses to a port, as Neutron does", () => {
    const { history } = networkWith('10.0.0.0/24');
    const state = given(...history);
    for (const ipAddress of ['10.0.0.0', '10.0.0.255']) {
      expect(
        refusal(() => decideCreatePort(state, portRequest({ fixedIps: [{ ipAddress }] }))),
      ).toMatchObject({
        code: 'BadRequest',
      });
    }
  });

  it('refuses an ambiguous IPv4 address with a leading zero rather than reading it as octal', () => {
    // Neutron: "'10.0.0.010' is not an accurate IP address, '10.0.0.10' is recommended".
    const { history } = networkWith('10.0.0.0/24');
    const request = portRequest({ fixedIps: [{ ipAddress: '10.0.0.010' }] });
    expect(refusal(() => decideCreatePort(given(...history), request))).toMatchObject({
      code: 'BadRequest',
      type: 'InvalidInput',
    });
  });

  it('refuses a MAC address another port on the network has, whatever its case', () => {
    const { history } = networkWith('10.0.0.0/24');
    const first = then(history, (state) =>
      decideCreatePort(state, portRequest({ macAddress: 'fa:16:3e:12:34:56' })),
    );
    expect(
      refusal(() => decideCreatePort(given(...first), portRequest({ macAddress: 'FA:16:3E:12:34:56' }))),
    ).toEqual({
      code: 'Conflict',
      type: 'MacAddressInUse',
      message: `Unable to complete operation for network ${networkId}. The mac address fa:16:3e:12:34:56 is in use.`,
    });
  });

  it('refuses a port id the network already has', () => {
    const { history } = networkWith('10.0.0.0/24');
    const request = portRequest();
    const state = given(...then(history, (before) => decideCreatePort(before, request)));
    expect(refusal(() => decideCreatePort(state, { ...request, macAddress: 'fa:16:3e:ff:ff:ff' }))).toEqual({
      code: 'Conflict',
      type: 'PortExists',
      message: `Port ${request.portId} already exists.`,
    });
  });

  it('frees the addresses and MAC of a deleted port for the next one', () => {
    const { history } = networkWith('10.0.0.0/24');
    const request = portRequest({ macAddress: 'fa:16:3e:00:aa:01' });
    const withFirst = then(history, (state) => decideCreatePort(state, request));
    const withTwo = withPorts(withFirst, 1);
    expect(addressesOf(given(...withTwo))).toEqual(['10.0.0.2', '10.0.0.3']);
    const afterDelete = then(withTwo, (state) => decideDeletePort(state, request.portId));
    expect(given(...afterDelete).ports.has(request.portId)).toBe(false);
    const [next] = decideCreatePort(given(...afterDelete), portRequest({ macAddress: 'fa:16:3e:00:aa:01' }));
    expect(next!.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.2']);
    const [asked] = decideCreatePort(
      given(...afterDelete),
      portRequest({ fixedIps: [{ ipAddress: '10.0.0.2' }] }),
    );
    expect(asked!.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.2']);
  });

  it('allocates again from a full subnet once a port is deleted', () => {
    const { history } = networkWith('10.0.0.0/30');
    const request = portRequest();
    const full = then(history, (state) => decideCreatePort(state, request));
    expect(refusal(() => decideCreatePort(given(...full), portRequest())).type).toBe(
      'IpAddressGenerationFailure',
    );
    const freed = then(full, (state) => decideDeletePort(state, request.portId));
    const [event] = decideCreatePort(given(...freed), portRequest());
    expect(event!.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.2']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Port updates, deletes and releases
// ---------------------------------------------------------------------------------------------------------

describe('network aggregate: port updates, deletes and releases', () => {
  const serverId = randomUUID();
  const bound = portRequest({ deviceId: serverId, deviceOwner: 'compute:nova', projectId: 'p-2' });
  const { history: base } = networkWith('10.0.0.0/24');
  const history = then(base, (state) => decideCreatePort(state, bound));

  it("keeps a server's NIC from becoming a network device, which hosts would not filter", () => {
    expect(() =>
      decideUpdatePort(given(...history), bound.portId, { deviceOwner: 'network:router_interface' }),
    ).toThrow(expect.objectContaining({ code: 'Conflict', type: 'PortInUse' }));
    expect(decideUpdatePort(given(...history), bound.portId, { deviceOwner: 'compute:az2' })).toHaveLength(1);
  });

  it("keeps network:dhcp for the network's own DHCP port", () => {
    expect(() => decideCreatePort(given(...history), portRequest({ deviceOwner: DHCP_OWNER }))).toThrow(
      expect.objectContaining({ code: 'BadRequest', type: 'InvalidInput' }),
    );
    expect(() => decideUpdatePort(given(...history), bound.portId, { deviceOwner: DHCP_OWNER })).toThrow(
      /kept for the network's own DHCP port/,
    );
  });

  it('emits only the fields a port update changes, with the port’s project, and folds them', () => {
    const sg = randomUUID();
    const [updated, ...rest] = decideUpdatePort(given(...history), bound.portId, {
      name: 'eth0',
      deviceId: serverId,
      adminStateUp: true,
      securityGroupIds: [sg],
    });
    expect(rest).toEqual([]);
    expect(updated).toEqual({
      networkId,
      portId: bound.portId,
      projectId: 'p-2',
      name: 'eth0',
      securityGroupIds: [sg],
    });
    const folded = envelope(updated!);
    const port = networkReducer.evolve(given(...history), folded).ports.get(bound.portId);
    expect(port).toMatchObject({
      name: 'eth0',
      securityGroupIds: [sg],
      deviceId: serverId,
      deviceOwner: 'compute:nova',
      macAddress: bound.macAddress,
      fixedIps: [{ ipAddress: '10.0.0.2' }],
      updatedAt: folded.metadata.occurredAt,
    });
  });

  it('emits nothing when a port update changes nothing', () => {
    const state = given(...history);
    expect(decideUpdatePort(state, bound.portId, {})).toEqual([]);
    expect(
      decideUpdatePort(state, bound.portId, {
        name: bound.name,
        deviceId: serverId,
        deviceOwner: 'compute:nova',
        securityGroupIds: [],
      }),
    ).toEqual([]);
  });

  it('refuses to update or delete a port the network does not hold', () => {
    const unknown = randomUUID();
    expect(refusal(() => decideUpdatePort(given(...history), unknown, { name: 'x' }))).toEqual({
      code: 'NotFound',
      type: 'PortNotFound',
      message: `Port ${unknown} could not be found.`,
    });
    expect(refusal(() => decideDeletePort(given(...history), unknown)).type).toBe('PortNotFound');
  });

  it('deletes a port with its owner’s project; a second delete is not found', () => {
    const events = decideDeletePort(given(...history), bound.portId);
    expect(events).toEqual([{ networkId, portId: bound.portId, projectId: 'p-2' }]);
    const state = given(...history, ...events);
    expect(state.ports.size).toBe(0);
    expect(refusal(() => decideDeletePort(state, bound.portId)).type).toBe('PortNotFound');
  });

  it('deletes a port it made for the server when the server goes', () => {
    const events = decideReleasePort(given(...history), bound.portId, serverId, false);
    expect(withTypes(events)).toEqual([
      { type: 'PortDeleted', networkId, portId: bound.portId, projectId: 'p-2' },
    ]);
    expect(given(...history, ...events).ports.size).toBe(0);
  });

  it('unbinds, and keeps with its addresses, a port the user brought', () => {
    const events = decideReleasePort(given(...history), bound.portId, serverId, true);
    expect(withTypes(events)).toEqual([
      {
        type: 'PortUpdated',
        networkId,
        portId: bound.portId,
        projectId: 'p-2',
        deviceId: '',
        deviceOwner: '',
      },
    ]);
    const state = given(...history, ...events);
    expect(state.ports.get(bound.portId)).toMatchObject({
      deviceId: '',
      deviceOwner: '',
      fixedIps: [{ ipAddress: '10.0.0.2' }],
      macAddress: bound.macAddress,
    });
    // Retried after the unbinding, the release changes nothing more.
    expect(decideReleasePort(state, bound.portId, serverId, true)).toEqual([]);
    expect(decideReleasePort(state, bound.portId, serverId, false)).toEqual([]);
  });

  it('leaves alone a port that now serves another device', () => {
    const state = given(...history);
    expect(decideReleasePort(state, bound.portId, randomUUID(), false)).toEqual([]);
    expect(decideReleasePort(state, bound.portId, randomUUID(), true)).toEqual([]);
  });

  it('does nothing for a port already gone, or on a deleted network', () => {
    const gone = given(...then(history, (state) => decideDeletePort(state, bound.portId)));
    expect(decideReleasePort(gone, bound.portId, serverId, false)).toEqual([]);
    expect(decideReleasePort(gone, bound.portId, serverId, true)).toEqual([]);
    expect(decideReleasePort(given(...history), randomUUID(), serverId, false)).toEqual([]);
    const deletedNetwork = given(...history, build(NetworkDeleted, { networkId }));
    expect(decideReleasePort(deletedNetwork, bound.portId, serverId, false)).toEqual([]);
    expect(decideReleasePort(initialNetwork(), bound.portId, serverId, false)).toEqual([]);
  });
});

describe('network aggregate: host routes, gateway changes and a port moving its addresses', () => {
  it('keeps host routes canonical and refuses one of the other IP version', () => {
    const request = subnetRequest('10.0.0.0/24', {
      hostRoutes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }],
    });
    const [event] = decideCreateSubnet(given(created), request) as SubnetCreated[];
    expect(event?.hostRoutes).toEqual([{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }]);
    const mixed = subnetRequest('10.0.1.0/24', {
      hostRoutes: [{ destination: 'fd00::/64', nexthop: '10.0.1.1' }],
    });
    expect(refusal(() => decideCreateSubnet(given(created), mixed)).type).toBe('InvalidInput');
  });

  it('moves the gateway to a free host address outside the pools, and refuses one a port holds', () => {
    const { history, subnetIds } = networkWith(
      subnetRequest('10.0.0.0/24', { allocationPools: [{ start: '10.0.0.10', end: '10.0.0.20' }] }),
    );
    const subnetId = subnetIds[0]!;
    const withPort = then(history, (state) =>
      decideCreatePort(state, portRequest({ fixedIps: [{ ipAddress: '10.0.0.30' }] })),
    );
    const [moved] = decideUpdateSubnet(given(...withPort), subnetId, { gatewayIp: '10.0.0.254' });
    expect(moved).toMatchObject({ subnetId, gatewayIp: '10.0.0.254' });
    expect(
      refusal(() => decideUpdateSubnet(given(...withPort), subnetId, { gatewayIp: '10.0.0.15' })).type,
    ).toBe('GatewayConflictWithAllocationPools');
    expect(
      refusal(() => decideUpdateSubnet(given(...withPort), subnetId, { gatewayIp: '10.0.0.30' })).type,
    ).toBe('GatewayIpInUse');
    expect(decideUpdateSubnet(given(...withPort), subnetId, { gatewayIp: null })).toMatchObject([
      { gatewayIp: null },
    ]);
  });

  it('keeps a port its address on a subnet it names again, and gives it one on a subnet it names newly', () => {
    const { history, subnetIds } = networkWith('10.0.0.0/24', '10.0.1.0/24');
    const [first, second] = subnetIds as [string, string];
    const request = portRequest();
    const withPort = then(history, (state) => decideCreatePort(state, request));
    const stay = decideUpdatePort(given(...withPort), request.portId, { fixedIps: [{ subnetId: first }] });
    expect(stay).toEqual([]);
    const [moved] = decideUpdatePort(given(...withPort), request.portId, {
      fixedIps: [{ subnetId: second }],
    });
    expect(moved?.fixedIps).toEqual([{ subnetId: second, ipAddress: '10.0.1.2' }]);
    const both = decideUpdatePort(given(...withPort), request.portId, {
      fixedIps: [{ subnetId: first }, { subnetId: second }],
    });
    expect(both[0]?.fixedIps).toEqual([
      { subnetId: first, ipAddress: '10.0.0.2' },
      { subnetId: second, ipAddress: '10.0.1.2' },
    ]);
  });
});

describe("network aggregate: the network's DHCP port", () => {
  const dhcp = { portId: randomUUID(), macAddress: 'fa:16:3e:0d:0c:01' };
  const withSubnet = (request: SubnetRequest) => {
    const events = decideCreateSubnet(given(created), request, dhcp);
    return { events, state: given(created, ...events) };
  };

  it('is made with the first subnet that has DHCP on, holding its first free address', () => {
    const { events, state } = withSubnet(subnetRequest('10.0.0.0/24'));
    expect(events.map(eventTypeOf)).toEqual(['SubnetCreated', 'PortCreated']);
    const port = dhcpPortOf(state);
    expect(port).toMatchObject({
      id: dhcp.portId,
      macAddress: dhcp.macAddress,
      projectId: 'p-1',
      deviceOwner: DHCP_OWNER,
      deviceId: `dhcp-${networkId}`,
      fixedIps: [{ ipAddress: '10.0.0.2' }],
    });
    // A user's port after it gets the next address: none is handed out twice.
    const [user] = decideCreatePort(state, portRequest());
    expect(user?.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.3']);
  });

  it('is not made for a subnet without DHCP or for IPv6, and gains an address when DHCP is switched on', () => {
    const { events, state } = withSubnet(subnetRequest('10.0.0.0/24', { enableDhcp: false }));
    expect(events.map(eventTypeOf)).toEqual(['SubnetCreated']);
    const subnetId = (events[0] as SubnetCreated).subnetId;
    expect(decideCreateSubnet(state, subnetRequest('fd00::/64'), dhcp).map(eventTypeOf)).toEqual([
      'SubnetCreated',
    ]);
    const switched = decideUpdateSubnet(state, subnetId, { enableDhcp: true }, dhcp);
    expect(switched.map(eventTypeOf)).toEqual(['SubnetUpdated', 'PortCreated']);
    expect((switched[1] as PortCreated).fixedIps).toEqual([{ subnetId, ipAddress: '10.0.0.2' }]);
  });

  it('keeps its address, takes one in each DHCP subnet, and goes with the last of them', () => {
    const first = withSubnet(subnetRequest('10.0.0.0/24'));
    const second = decideCreateSubnet(first.state, subnetRequest('10.0.1.0/24'), dhcp);
    expect(second.map(eventTypeOf)).toEqual(['SubnetCreated', 'PortUpdated']);
    const state = given(created, ...first.events, ...second);
    expect(dhcpPortOf(state)?.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.0.2', '10.0.1.2']);

    const firstSubnet = (first.events[0] as SubnetCreated).subnetId;
    const dropped = decideDeleteSubnet(state, firstSubnet);
    expect(dropped.map(eventTypeOf)).toEqual(['PortUpdated', 'SubnetDeleted']);
    const left = given(created, ...first.events, ...second, ...dropped);
    expect(dhcpPortOf(left)?.fixedIps.map((ip) => ip.ipAddress)).toEqual(['10.0.1.2']);

    const last = decideDeleteSubnet(left, (second[0] as SubnetCreated).subnetId);
    expect(last.map(eventTypeOf)).toEqual(['PortDeleted', 'SubnetDeleted']);
    expect((last[0] as PortDeleted).portId).toBe(dhcp.portId);
  });

  it("does not keep a network or subnet in use, but a user's port still does", () => {
    const { events, state } = withSubnet(subnetRequest('10.0.0.0/24'));
    expect(decideDeleteNetwork(state, networkId).map(eventTypeOf)).toEqual(['PortDeleted', 'NetworkDeleted']);
    const withUser = given(created, ...events, ...decideCreatePort(state, portRequest()));
    expect(refusal(() => decideDeleteNetwork(withUser, networkId)).type).toBe('NetworkInUse');
    const subnetId = (events[0] as SubnetCreated).subnetId;
    expect(refusal(() => decideDeleteSubnet(withUser, subnetId)).type).toBe('SubnetInUse');
  });

  it('is not made while the only DHCP subnet has no free address, and the change is still made', () => {
    const { events, state } = withSubnet(
      subnetRequest('10.0.0.0/24', {
        enableDhcp: false,
        allocationPools: [{ start: '10.0.0.5', end: '10.0.0.5' }],
      }),
    );
    const full = given(created, ...events, ...decideCreatePort(state, portRequest()));
    const subnetId = (events[0] as SubnetCreated).subnetId;
    expect(decideUpdateSubnet(full, subnetId, { enableDhcp: true }, dhcp).map(eventTypeOf)).toEqual([
      'SubnetUpdated',
    ]);
  });
});
