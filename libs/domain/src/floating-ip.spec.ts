import { randomUUID } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { FloatingIpCreated, NetworkCreated, build, eventTypeOf } from '#libs/contracts';

import {
  type FloatingIpState,
  type RouterReach,
  decideAssociateFloatingIp,
  decideCreateFloatingIp,
  decideCreateFloatingIpPort,
  decideDeleteFloatingIp,
  decideDeleteFloatingIpPort,
  decideDisassociateFloatingIp,
  floatingIpReducer,
  initialFloatingIp,
  liveAssociation,
  resolveAssociation,
} from './floating-ip.js';
import { NetworkError, type PortState, decideCreateSubnet, networkReducer } from './network.js';
import { foldAll } from './testing/given.js';

const externalId = randomUUID();
const floatingIpId = randomUUID();
const created = build(FloatingIpCreated, {
  floatingIpId,
  projectId: 'p-1',
  floatingNetworkId: externalId,
  addressPortId: randomUUID(),
  floatingIpAddress: '172.24.4.10',
  description: '',
});
const floatingIp = (...events: object[]): FloatingIpState => foldAll(floatingIpReducer, [created, ...events]);

const subnetId = randomUUID();
const port = (fixedIps: { subnetId: string; ipAddress: string }[]): PortState => ({
  id: randomUUID(),
  networkId: randomUUID(),
  projectId: 'p-1',
  name: '',
  description: '',
  macAddress: 'fa:16:3e:00:00:01',
  fixedIps,
  deviceId: '',
  deviceOwner: '',
  adminStateUp: true,
  securityGroupIds: [],
  createdAt: '',
  updatedAt: '',
});
const routerId = randomUUID();
const reaching: RouterReach[] = [{ routerId, gatewayNetworkId: externalId, subnetIds: [subnetId] }];

const refusal = (decide: () => unknown): string => {
  try {
    decide();
  } catch (error) {
    if (error instanceof NetworkError) return `${error.code} ${error.type}`;
    throw error;
  }
  throw new Error('the decision was not refused');
};

describe('floating IP', () => {
  it("leads to a port's IPv4 address through the router with its gateway on the floating IP's network", () => {
    const target = port([
      { subnetId, ipAddress: '10.0.0.5' },
      { subnetId: randomUUID(), ipAddress: 'fd00::5' },
    ]);
    const association = resolveAssociation(floatingIp(), { port: target }, reaching, []);
    expect(association).toEqual({ portId: target.id, fixedIpAddress: '10.0.0.5', routerId });
    const [associated] = decideAssociateFloatingIp(floatingIp(), association);
    const state = floatingIp(associated!);
    expect(decideAssociateFloatingIp(state, association)).toEqual([]);
    expect(liveAssociation(state, () => target)).toEqual(association);
    // Its port deleted or renumbered, the association reads as none.
    expect(liveAssociation(state, () => undefined)).toBeNull();
    expect(liveAssociation(state, () => port([{ subnetId, ipAddress: '10.0.0.9' }]))).toBeNull();
    expect(decideDisassociateFloatingIp(state).map(eventTypeOf)).toEqual(['FloatingIpDisassociated']);
    expect(decideDeleteFloatingIp(state).map(eventTypeOf)).toEqual(['FloatingIpDeleted']);
  });

  it('is refused an address no router reaches, one already taken, or an ambiguous port', () => {
    const target = port([{ subnetId, ipAddress: '10.0.0.5' }]);
    const elsewhere: RouterReach[] = [{ routerId, gatewayNetworkId: randomUUID(), subnetIds: [subnetId] }];
    expect(refusal(() => resolveAssociation(floatingIp(), { port: target }, elsewhere, []))).toBe(
      'NotFound ExternalGatewayForFloatingIPNotFound',
    );
    const taken = [
      {
        floatingIpId: randomUUID(),
        floatingNetworkId: externalId,
        portId: target.id,
        fixedIpAddress: '10.0.0.5',
      },
    ];
    expect(refusal(() => resolveAssociation(floatingIp(), { port: target }, reaching, taken))).toBe(
      'Conflict FloatingIPPortAlreadyAssociated',
    );
    // The floating IP that holds it may be pointed there again.
    expect(() =>
      resolveAssociation(floatingIp(), { port: target }, reaching, [{ ...taken[0]!, floatingIpId }]),
    ).not.toThrow();
    const two = port([
      { subnetId, ipAddress: '10.0.0.5' },
      { subnetId, ipAddress: '10.0.0.6' },
    ]);
    expect(refusal(() => resolveAssociation(floatingIp(), { port: two }, reaching, []))).toBe(
      'BadRequest BadRequest',
    );
    expect(
      resolveAssociation(floatingIp(), { port: two, fixedIpAddress: '10.0.0.6' }, reaching, [])
        .fixedIpAddress,
    ).toBe('10.0.0.6');
    expect(
      refusal(() =>
        resolveAssociation(floatingIp(), { port: two, fixedIpAddress: '10.0.0.7' }, reaching, []),
      ),
    ).toBe('BadRequest BadRequest');
    expect(refusal(() => resolveAssociation(floatingIp(), { port: port([]) }, reaching, []))).toBe(
      'BadRequest BadRequest',
    );
  });

  it('is created once, with its association in the same decision', () => {
    const { floatingIpId: id, ...rest } = created;
    const association = { portId: randomUUID(), fixedIpAddress: '10.0.0.5', routerId };
    const events = decideCreateFloatingIp(initialFloatingIp(), { floatingIpId: id, ...rest }, association);
    expect(events.map(eventTypeOf)).toEqual(['FloatingIpCreated', 'FloatingIpAssociated']);
    expect(refusal(() => decideCreateFloatingIp(floatingIp(), { floatingIpId: id, ...rest }, null))).toBe(
      'Conflict FloatingIPExists',
    );
  });

  it("holds its address in a port on an external network's IPv4 subnet, deleted with it", () => {
    const network = (external: boolean) => {
      const networkCreated = build(NetworkCreated, {
        networkId: externalId,
        projectId: 'admin',
        name: 'public',
        description: '',
        shared: false,
        external,
        adminStateUp: true,
        mtu: 1500,
      });
      const bare = foldAll(networkReducer, [networkCreated]);
      const subnets = [
        ...decideCreateSubnet(bare, {
          subnetId: randomUUID(),
          projectId: 'admin',
          name: '',
          description: '',
          ipVersion: 6,
          cidr: 'fd00:1::/64',
          enableDhcp: false,
          dnsNameservers: [],
        }),
      ];
      const withV6 = foldAll(networkReducer, [networkCreated, ...subnets]);
      const v4 = decideCreateSubnet(withV6, {
        subnetId: randomUUID(),
        projectId: 'admin',
        name: '',
        description: '',
        ipVersion: 4,
        cidr: '172.24.4.0/24',
        enableDhcp: false,
        dnsNameservers: [],
      });
      return [networkCreated, ...subnets, ...v4];
    };
    const request = {
      floatingIpId,
      portId: randomUUID(),
      macAddress: 'fa:16:3e:00:00:09',
      projectId: 'admin',
    };
    expect(refusal(() => decideCreateFloatingIpPort(foldAll(networkReducer, network(false)), request))).toBe(
      'BadRequest BadRequest',
    );
    const events = network(true);
    const [made] = decideCreateFloatingIpPort(foldAll(networkReducer, events), request);
    expect(made).toMatchObject({ deviceOwner: 'network:floatingip', deviceId: floatingIpId });
    expect(made?.fixedIps.map((ip) => ip.ipAddress)).toEqual(['172.24.4.2']);
    const withPort = foldAll(networkReducer, [...events, made!]);
    expect(decideDeleteFloatingIpPort(withPort, floatingIpId, request.portId).map(eventTypeOf)).toEqual([
      'PortDeleted',
    ]);
    expect(decideDeleteFloatingIpPort(withPort, randomUUID(), request.portId)).toEqual([]);
  });
});
