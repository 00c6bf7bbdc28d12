import { randomUUID } from 'node:crypto';

import { NetworkCreated, build } from '#libs/contracts';
import {
  type NetworkState,
  type SubnetRequest,
  decideCreatePort,
  decideCreateSubnet,
  decideUpdateSubnet,
  networkReducer,
} from '#libs/domain';
import { foldAll } from '#libs/domain/testing';

import { InvalidArgument } from './errors.js';
import { guestNetworkOf, validateGuestNetwork } from './guest-network.js';

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
    expect(guestNetworkOf(after(...events), 2)).toBeNull();
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
    const served = guestNetworkOf(after(...events), 7);
    expect(served).toEqual({
      networkId,
      revision: 7,
      port: { id: dhcp.portId, mac: dhcp.macAddress },
      subnets: [
        { cidr: '10.0.0.0/24', address: '10.0.0.2', gateway: '10.0.0.1', dns: ['10.0.0.53'], routes: [] },
      ],
      hosts: [{ mac: 'fa:16:3e:00:00:10', ip: '10.0.0.3', hostname: 'host-10-0-0-3' }],
    });
  });

  it('stops serving a subnet whose DHCP is switched off', () => {
    const first = subnet('10.0.0.0/24');
    const events = decideCreateSubnet(after(), first, dhcp);
    const off = decideUpdateSubnet(after(...events), first.subnetId, { enableDhcp: false }, dhcp);
    expect(guestNetworkOf(after(...events, ...off), 3)).toBeNull();
  });
});

describe(validateGuestNetwork.name, () => {
  const good = {
    networkId,
    revision: 1,
    port: { id: dhcp.portId, mac: dhcp.macAddress },
    subnets: [{ cidr: '10.0.0.0/24', address: '10.0.0.2', gateway: null, dns: [], routes: [] }],
    hosts: [{ mac: 'fa:16:3e:00:00:10', ip: '10.0.0.3', hostname: 'host-10-0-0-3' }],
  };

  it.each([
    ['a network id that is not a UUID', { networkId: 'net; reboot' }],
    ['a negative revision', { revision: -1 }],
    ['a host name with a newline', { hosts: [{ ...good.hosts[0]!, hostname: 'a\ndhcp-script=/bin/sh' }] }],
    ['an IPv6 lease', { hosts: [{ ...good.hosts[0]!, ip: 'fd00::3' }] }],
    ['a MAC in capitals', { port: { id: dhcp.portId, mac: 'FA:16:3E:00:00:02' } }],
    ['a cidr without a length', { subnets: [{ ...good.subnets[0]!, cidr: '10.0.0.0' }] }],
    ['no subnet', { subnets: [] }],
  ])('refuses %s', (_what, change) => {
    expect(() => validateGuestNetwork({ ...good, ...change })).toThrow(InvalidArgument);
  });
});
