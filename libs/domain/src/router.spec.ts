import { randomUUID } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { NetworkCreated, PortUpdated, RouterCreated, build, eventTypeOf } from '#libs/contracts';

import {
  NetworkError,
  type NetworkState,
  decideCreatePort,
  decideCreateSubnet,
  networkReducer,
} from './network.js';
import {
  type AttachedSubnet,
  MAX_ROUTES,
  type RouterState,
  checkInterfaceRemovable,
  checkPortDeletable,
  decideAddRouterInterface,
  decideAttachRouterPort,
  decideClearGateway,
  decideCreateGatewayPort,
  decideCreateRouter,
  decideDeleteGatewayPort,
  decideDeleteRouter,
  decideRemoveRouterInterface,
  decideSetGateway,
  decideUpdateRouter,
  initialRouter,
  routerReducer,
} from './router.js';
import { foldAll } from './testing/given.js';

const routerId = randomUUID();
const routerCreated = build(RouterCreated, {
  routerId,
  projectId: 'p-1',
  name: 'edge',
  description: '',
  adminStateUp: true,
});
const router = (...events: object[]): RouterState => foldAll(routerReducer, [routerCreated, ...events]);

/** A network with one subnet of `cidr` (gateway its first address), as its stream's events. */
function networkWith(
  cidr: string,
  external = false,
): { events: object[]; state: NetworkState; subnetId: string } {
  const networkId = randomUUID();
  const subnetId = randomUUID();
  const created = build(NetworkCreated, {
    networkId,
    projectId: 'admin',
    name: `net-${cidr}`,
    description: '',
    shared: false,
    external,
    adminStateUp: true,
    mtu: 1500,
  });
  const bare = foldAll(networkReducer, [created]);
  const subnet = decideCreateSubnet(bare, {
    subnetId,
    projectId: 'admin',
    name: '',
    description: '',
    ipVersion: 4,
    cidr,
    enableDhcp: true,
    dnsNameservers: [],
  });
  const events = [created, ...subnet];
  return { events, state: foldAll(networkReducer, events), subnetId };
}

const refusal = (decide: () => unknown): { code: string; type: string } => {
  try {
    decide();
  } catch (error) {
    if (error instanceof NetworkError) return { code: error.code, type: error.type };
    throw error;
  }
  throw new Error('the decision was not refused');
};

const mac = (n: number): string => `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`;

describe('router', () => {
  it('is created with its gateway in one decision, and folds back to what was asked', () => {
    const portId = randomUUID();
    const networkId = randomUUID();
    const events = decideCreateRouter(
      initialRouter(),
      { routerId, projectId: 'p-1', name: 'edge', description: 'd', adminStateUp: false },
      { networkId, portId, enableSnat: true },
    );
    expect(events.map(eventTypeOf)).toEqual(['RouterCreated', 'RouterGatewaySet']);
    const state = foldAll(routerReducer, events);
    expect(state).toMatchObject({
      exists: true,
      name: 'edge',
      adminStateUp: false,
      gateway: { networkId, portId, enableSnat: true },
    });
    expect(refusal(() => decideCreateRouter(state, routerCreated, null))).toMatchObject({ code: 'Conflict' });
  });

  it('takes extra routes only through a subnet it is on, never to its own address, and at most MAX_ROUTES', () => {
    const attached: AttachedSubnet[] = [
      { subnetId: randomUUID(), cidr: '10.0.0.0/24', ipAddress: '10.0.0.1' },
    ];
    const [updated] = decideUpdateRouter(
      router(),
      { routes: [{ destination: '10.1.0.0/24', nexthop: '10.0.0.5' }] },
      attached,
    );
    expect(updated?.routes).toEqual([{ destination: '10.1.0.0/24', nexthop: '10.0.0.5' }]);
    const state = router(updated!);
    expect(
      decideUpdateRouter(state, { routes: [{ destination: '10.1.0.0/24', nexthop: '10.0.0.5' }] }, attached),
    ).toEqual([]);
    const refused = (routes: { destination: string; nexthop: string }[]) =>
      refusal(() => decideUpdateRouter(router(), { routes }, attached));
    expect(refused([{ destination: '10.1.0.0/24', nexthop: '10.9.0.5' }])).toEqual({
      code: 'BadRequest',
      type: 'InvalidRoutes',
    });
    expect(refused([{ destination: '10.1.0.0/24', nexthop: '10.0.0.1' }]).type).toBe('InvalidRoutes');
    expect(refused([{ destination: '10.1.0.7/24', nexthop: '10.0.0.5' }]).type).toBe('InvalidInput');
    expect(refused([{ destination: '10.1.0.0/24', nexthop: 'fe80::1' }]).type).toBe('InvalidInput');
    const many = Array.from({ length: MAX_ROUTES + 1 }, (_, i) => ({
      destination: `10.2.${i}.0/24`,
      nexthop: '10.0.0.5',
    }));
    expect(refused(many).type).toBe('RoutesExhausted');
    expect(() => checkInterfaceRemovable(state, { id: 's', cidr: '10.0.0.0/24' })).toThrow(
      'required by one or more routes',
    );
    expect(() => checkInterfaceRemovable(state, { id: 's', cidr: '10.7.0.0/24' })).not.toThrow();
  });

  it('keeps one gateway at a time, clears it once, and is not deleted while it has interfaces', () => {
    const gateway = { networkId: randomUUID(), portId: randomUUID(), enableSnat: true };
    const withGateway = router(...decideSetGateway(router(), gateway));
    expect(decideSetGateway(withGateway, gateway)).toEqual([]);
    expect(decideSetGateway(withGateway, { ...gateway, enableSnat: false })).toHaveLength(1);
    expect(refusal(() => decideSetGateway(withGateway, { ...gateway, portId: randomUUID() })).type).toBe(
      'RouterGatewayInUse',
    );
    const cleared = router(...decideSetGateway(router(), gateway), ...decideClearGateway(withGateway));
    expect(cleared.gateway).toBeNull();
    expect(decideClearGateway(cleared)).toEqual([]);
    expect(refusal(() => decideDeleteRouter(cleared, 1))).toEqual({ code: 'Conflict', type: 'RouterInUse' });
    const deleted = router(...decideDeleteRouter(cleared, 0));
    expect(refusal(() => decideUpdateRouter(deleted, { name: 'x' }, [])).type).toBe('RouterNotFound');
  });
});

describe("a router's ports on its networks", () => {
  it("puts an interface on the subnet's gateway address, once per subnet, never on an overlapping one", () => {
    const { state, subnetId } = networkWith('10.0.0.0/24');
    const request = { routerId, subnetId, portId: randomUUID(), macAddress: mac(1), projectId: 'p-1' };
    const [port] = decideAddRouterInterface(state, request, []);
    expect(port).toMatchObject({
      deviceId: routerId,
      deviceOwner: 'network:router_interface',
      fixedIps: [{ subnetId, ipAddress: '10.0.0.1' }],
      securityGroupIds: [],
    });
    const attached = [{ subnetId, cidr: '10.0.0.0/24', ipAddress: '10.0.0.1' }];
    expect(
      refusal(() => decideAddRouterInterface(state, { ...request, portId: randomUUID() }, attached)),
    ).toEqual({
      code: 'BadRequest',
      type: 'BadRequest',
    });
    const other = networkWith('10.0.0.128/25');
    expect(() =>
      decideAddRouterInterface(other.state, { ...request, subnetId: other.subnetId }, attached),
    ).toThrow('overlaps with cidr 10.0.0.0/24');
    // A user's port still cannot take the gateway address.
    expect(
      refusal(() =>
        decideCreatePort(state, {
          portId: randomUUID(),
          projectId: 'p-1',
          name: '',
          description: '',
          macAddress: mac(2),
          fixedIps: [{ subnetId, ipAddress: '10.0.0.1' }],
          deviceId: '',
          deviceOwner: '',
          adminStateUp: true,
          securityGroupIds: [],
        }),
      ).type,
    ).toBe('IpAddressAlreadyAllocated');
  });

  it('takes a free port with one address as an interface, and removing it deletes the port', () => {
    const { events, state, subnetId } = networkWith('10.0.0.0/24');
    const portId = randomUUID();
    const made = decideCreatePort(state, {
      portId,
      projectId: 'p-1',
      name: '',
      description: '',
      macAddress: mac(3),
      deviceId: '',
      deviceOwner: '',
      adminStateUp: true,
      securityGroupIds: [],
    });
    const withPort = foldAll(networkReducer, [...events, ...made]);
    const [attached] = decideAttachRouterPort(withPort, routerId, portId, []);
    expect(attached).toBeInstanceOf(PortUpdated);
    const bound = foldAll(networkReducer, [...events, ...made, attached!]);
    expect(refusal(() => decideAttachRouterPort(bound, randomUUID(), portId, [])).type).toBe('PortInUse');
    expect(refusal(() => decideRemoveRouterInterface(bound, routerId, { subnetId: randomUUID() })).type).toBe(
      'RouterInterfaceNotFoundForSubnet',
    );
    expect(refusal(() => checkPortDeletable(bound.ports.get(portId)!)).type).toBe('ServicePortInUse');
    const removed = decideRemoveRouterInterface(bound, routerId, { subnetId });
    expect(removed.map(eventTypeOf)).toEqual(['PortDeleted']);
  });

  it('takes a gateway port only on an external network with a subnet, and deletes it once', () => {
    const internal = networkWith('10.0.0.0/24');
    const request = { routerId, portId: randomUUID(), macAddress: mac(4), projectId: 'admin' };
    expect(refusal(() => decideCreateGatewayPort(internal.state, request))).toEqual({
      code: 'BadRequest',
      type: 'BadRequest',
    });
    const external = networkWith('172.24.4.0/24', true);
    const [port] = decideCreateGatewayPort(external.state, request);
    expect(port).toMatchObject({
      deviceOwner: 'network:router_gateway',
      fixedIps: [{ subnetId: external.subnetId, ipAddress: '172.24.4.2' }],
    });
    const withPort = foldAll(networkReducer, [...external.events, port!]);
    expect(decideDeleteGatewayPort(withPort, routerId, request.portId).map(eventTypeOf)).toEqual([
      'PortDeleted',
    ]);
    expect(decideDeleteGatewayPort(withPort, randomUUID(), request.portId)).toEqual([]);
    expect(decideDeleteGatewayPort(external.state, routerId, request.portId)).toEqual([]);
  });
});
