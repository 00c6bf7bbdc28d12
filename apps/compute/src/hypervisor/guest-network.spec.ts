import { randomUUID } from 'node:crypto';

import { NetworkCreated, build } from '#libs/contracts';
import {
  type NetworkState,
  type SubnetRequest,
  decideCreatePort,
  decideCreateSubnet,
  decideUpdateSubnet,
  networkReducer,
  type SecurityGroupRule,
  type SecurityGroupState,
} from '#libs/domain';
import { foldAll } from '#libs/domain/testing';

import { InvalidArgument } from './errors.js';
import { groupsNamedOn, guestNetworkOf, validateGuestNetwork } from './guest-network.js';

const NO_GROUPS = new Map<string, SecurityGroupState>();

const networkId = randomUUID();
const created = build(NetworkCreated, {
  networkId,
  projectId: 'p-1',
  name: 'private',
  description: '',
  shared: false,
  external: false,
  adminStateUp: true,
  mtu: 1500,
});
const dhcp = { portId: randomUUID(), macAddress: 'fa:16:3e:00:00:02' };

/** The network after its creation and `events`. */
const after = (...events: object[]): NetworkState => foldAll(networkReducer, [created, ...events]);

function subnet(
  cidr: string,
  overrides: { enableDhcp?: boolean; dnsNameservers?: string[] } = {},
): SubnetRequest {
  return {
    subnetId: randomUUID(),
    projectId: 'p-1',
    name: cidr,
    description: '',
    ipVersion: cidr.includes(':') ? 6 : 4,
    cidr,
    enableDhcp: overrides.enableDhcp ?? true,
    dnsNameservers: overrides.dnsNameservers ?? [],
  };
}

function port(mac: string) {
  return {
    portId: randomUUID(),
    projectId: 'p-1',
    name: '',
    description: '',
    macAddress: mac,
    deviceId: randomUUID(),
    deviceOwner: 'compute:nova',
    adminStateUp: true,
    securityGroupIds: [],
  };
}

describe(guestNetworkOf.name, () => {
  it('is nothing to serve for a network without a DHCP subnet', () => {
    const events = decideCreateSubnet(after(), subnet('10.0.0.0/24', { enableDhcp: false }), dhcp);
    expect(guestNetworkOf(after(...events), 2, NO_GROUPS)).toBeNull();
  });

  it("serves the DHCP port's subnets, and a static lease for each guest's address under Neutron's host name", () => {
    let events: object[] = [
      ...decideCreateSubnet(
        after(),
        subnet('10.0.0.0/24', { dnsNameservers: ['10.0.0.53', 'fd00::53'] }),
        dhcp,
      ),
    ];
    events = [...events, ...decideCreatePort(after(...events), port('fa:16:3e:00:00:10'))];
    events = [...events, ...decideCreateSubnet(after(...events), subnet('fd00::/64'), dhcp)];
    const served = guestNetworkOf(after(...events), 7, NO_GROUPS);
    expect(served).toEqual({
      networkId,
      revision: 7,
      port: { id: dhcp.portId, mac: dhcp.macAddress },
      subnets: [
        { cidr: '10.0.0.0/24', address: '10.0.0.2', gateway: '10.0.0.1', dns: ['10.0.0.53'], routes: [] },
      ],
      hosts: [{ mac: 'fa:16:3e:00:00:10', ip: '10.0.0.3', hostname: 'host-10-0-0-3' }],
      // A port with no security group: nothing but DHCP and replies may pass.
      filters: [
        { port: expect.any(String), mac: 'fa:16:3e:00:00:10', ips: ['10.0.0.3'], ingress: [], egress: [] },
      ],
    });
  });

  it("filters each guest port by its groups' IPv4 rules, a remote group standing for its members' addresses", () => {
    const GROUP = randomUUID();
    const rule = (overrides: Partial<SecurityGroupRule>): SecurityGroupRule => ({
      id: randomUUID(),
      securityGroupId: GROUP,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: null,
      portRangeMin: null,
      portRangeMax: null,
      remoteIpPrefix: null,
      remoteGroupId: null,
      description: '',
      createdAt: '',
      ...overrides,
    });
    const group: SecurityGroupState = {
      exists: true,
      deleted: false,
      id: GROUP,
      projectId: 'p-1',
      name: 'web',
      description: '',
      rules: [
        rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.0/24' }),
        rule({ protocol: 'icmp', remoteGroupId: GROUP }),
        rule({ protocol: '17', portRangeMin: 53, portRangeMax: 53 }),
        rule({ direction: 'egress' }),
        rule({ ethertype: 'IPv6', protocol: 'ipv6-icmp' }),
      ],
      createdAt: null,
      updatedAt: null,
    };
    let events: object[] = [...decideCreateSubnet(after(), subnet('10.0.0.0/24'), dhcp)];
    const member = { ...port('fa:16:3e:00:00:10'), securityGroupIds: [GROUP] };
    const other = { ...port('fa:16:3e:00:00:11'), securityGroupIds: [GROUP] };
    const outsider = port('fa:16:3e:00:00:12');
    for (const request of [member, other, outsider]) {
      events = [...events, ...decideCreatePort(after(...events), request)];
    }
    const state = after(...events);
    expect(groupsNamedOn(state)).toEqual([GROUP]);
    const served = guestNetworkOf(state, 5, new Map([[GROUP, group]]));
    expect(served?.filters.find((filter) => filter.port === member.portId)).toEqual({
      port: member.portId,
      mac: member.macAddress,
      ips: ['10.0.0.3'],
      ingress: [
        { protocol: 'tcp', min: 22, max: 22, remote: ['192.0.2.0/24'] },
        { protocol: 'icmp', min: null, max: null, remote: ['10.0.0.3/32', '10.0.0.4/32'] },
        { protocol: 'udp', min: 53, max: 53, remote: ['0.0.0.0/0'] },
      ],
      egress: [{ protocol: null, min: null, max: null, remote: ['0.0.0.0/0'] }],
    });
    // A group that is gone lets nothing through.
    const gone = guestNetworkOf(state, 5, new Map([[GROUP, { ...group, deleted: true }]]));
    expect(gone?.filters.find((filter) => filter.port === member.portId)).toMatchObject({
      ingress: [],
      egress: [],
    });
  });

  it('stops serving a subnet whose DHCP is switched off', () => {
    const first = subnet('10.0.0.0/24');
    const events = decideCreateSubnet(after(), first, dhcp);
    const off = decideUpdateSubnet(after(...events), first.subnetId, { enableDhcp: false }, dhcp);
    expect(guestNetworkOf(after(...events, ...off), 3, NO_GROUPS)).toBeNull();
  });
});

describe(validateGuestNetwork.name, () => {
  const good = {
    networkId,
    revision: 1,
    port: { id: dhcp.portId, mac: dhcp.macAddress },
    subnets: [{ cidr: '10.0.0.0/24', address: '10.0.0.2', gateway: null, dns: [], routes: [] }],
    hosts: [{ mac: 'fa:16:3e:00:00:10', ip: '10.0.0.3', hostname: 'host-10-0-0-3' }],
    filters: [
      {
        port: randomUUID(),
        mac: 'fa:16:3e:00:00:10',
        ips: ['10.0.0.3'],
        ingress: [{ protocol: 'tcp' as const, min: 22, max: 22, remote: ['0.0.0.0/0'] }],
        egress: [],
      },
    ],
  };

  it.each([
    ['a network id that is not a UUID', { networkId: 'net; reboot' }],
    ['a negative revision', { revision: -1 }],
    ['a host name with a newline', { hosts: [{ ...good.hosts[0]!, hostname: 'a\ndhcp-script=/bin/sh' }] }],
    ['an IPv6 lease', { hosts: [{ ...good.hosts[0]!, ip: 'fd00::3' }] }],
    ['a MAC in capitals', { port: { id: dhcp.portId, mac: 'FA:16:3E:00:00:02' } }],
    ['a cidr without a length', { subnets: [{ ...good.subnets[0]!, cidr: '10.0.0.0' }] }],
    ['no subnet', { subnets: [] }],
    [
      'a filter rule from an IPv6 network',
      {
        filters: [
          { ...good.filters[0]!, ingress: [{ protocol: null, min: null, max: null, remote: ['fd00::/64'] }] },
        ],
      },
    ],
    [
      'a filter MAC with an option after it',
      { filters: [{ ...good.filters[0]!, mac: 'fa:16:3e:00:00:10,x' }] },
    ],
    [
      'a filter rule of an unknown protocol',
      { filters: [{ ...good.filters[0]!, egress: [{ protocol: 256, min: null, max: null, remote: [] }] }] },
    ],
  ])('refuses %s', (_what, change) => {
    expect(() => validateGuestNetwork({ ...good, ...change })).toThrow(InvalidArgument);
  });
});
