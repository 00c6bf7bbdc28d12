import { randomUUID } from 'node:crypto';

import { NetworkCreated, build } from '#libs/contracts';
import {
  decideAddRouterInterface,
  decideAssociateFloatingIp,
  decideCreateFloatingIp,
  decideCreateGatewayPort,
  decideCreatePort,
  decideCreateRouter,
  decideCreateSubnet,
  decideDeleteRouter,
  FLOATING_IP_OWNER,
  type FloatingIpState,
  floatingIpReducer,
  type NetworkState,
  networkReducer,
  type RouterState,
  routerReducer,
} from '#libs/domain';
import { foldAll } from '#libs/domain/testing';

import { InvalidArgument } from './errors.js';
import {
  floatingIpsNamedOn,
  guestRoutingOf,
  type Revisioned,
  routersNamedOn,
  validateGuestRouting,
} from './guest-routing.js';

const PROJECT = 'p-1';

function network(name: string, external: boolean, cidr: string, ...then: ((s: NetworkState) => object[])[]) {
  const networkId = randomUUID();
  let events: object[] = [
    build(NetworkCreated, {
      networkId,
      projectId: PROJECT,
      name,
      description: '',
      shared: false,
      external,
      adminStateUp: true,
      mtu: 1500,
    }),
  ];
  const fold = () => foldAll(networkReducer, events);
  events = [
    ...events,
    ...decideCreateSubnet(
      fold(),
      {
        subnetId: randomUUID(),
        projectId: PROJECT,
        name: cidr,
        description: '',
        ipVersion: 4,
        cidr,
        enableDhcp: !external,
        dnsNameservers: [],
      },
      external ? undefined : { portId: randomUUID(), macAddress: 'fa:16:3e:00:00:02' },
    ),
  ];
  for (const step of then) events = [...events, ...step(fold())];
  return { state: fold(), revision: events.length - 1, events };
}

const mac = (last: number) => `fa:16:3e:00:00:${last.toString(16).padStart(2, '0')}`;

/** A private network with a guest, an external one, and a router between them with a floating IP. */
function scene(options: { gateway?: boolean; associate?: boolean } = {}) {
  const routerId = randomUUID();
  const guestPort = randomUUID();
  const external = network('public', true, '172.24.4.0/24', (s) =>
    decideCreateGatewayPort(s, { routerId, portId: randomUUID(), macAddress: mac(10), projectId: PROJECT }),
  );
  const gatewayPort = [...external.state.ports.values()][0]!;
  const lan = network(
    'private',
    false,
    '10.0.0.0/24',
    (s) =>
      decideCreatePort(s, {
        portId: guestPort,
        projectId: PROJECT,
        name: '',
        description: '',
        macAddress: mac(20),
        deviceId: randomUUID(),
        deviceOwner: 'compute:nova',
        adminStateUp: true,
        securityGroupIds: [],
      }),
    (s) =>
      decideAddRouterInterface(
        s,
        {
          routerId,
          subnetId: s.subnets[0]!.id,
          portId: randomUUID(),
          macAddress: mac(1),
          projectId: PROJECT,
        },
        [],
      ),
  );
  const routerEvents = decideCreateRouter(
    foldAll(routerReducer, []),
    { routerId, projectId: PROJECT, name: 'r', description: '', adminStateUp: true },
    options.gateway === false
      ? null
      : { networkId: external.state.id, portId: gatewayPort.id, enableSnat: true },
  );
  const router = {
    state: foldAll(routerReducer, routerEvents),
    revision: routerEvents.length - 1,
    events: routerEvents,
  };

  // The floating IP's own address is a port on the external network.
  const floatingIpId = randomUUID();
  const withAddress = decideCreatePort(external.state, {
    portId: randomUUID(),
    projectId: PROJECT,
    name: '',
    description: '',
    macAddress: mac(11),
    deviceId: floatingIpId,
    deviceOwner: FLOATING_IP_OWNER,
    adminStateUp: true,
    securityGroupIds: [],
  });
  const externalState = foldAll(networkReducer, [...external.events, ...withAddress]);
  const addressPort = [...externalState.ports.values()].find((p) => p.deviceId === floatingIpId)!;
  const guestAddress = lan.state.ports.get(guestPort)!.fixedIps[0]!.ipAddress;
  let ipEvents: object[] = decideCreateFloatingIp(
    foldAll(floatingIpReducer, []),
    {
      floatingIpId,
      projectId: PROJECT,
      floatingNetworkId: externalState.id,
      addressPortId: addressPort.id,
      floatingIpAddress: addressPort.fixedIps[0]!.ipAddress,
      description: '',
    },
    null,
  );
  if (options.associate !== false) {
    ipEvents = [
      ...ipEvents,
      ...decideAssociateFloatingIp(foldAll(floatingIpReducer, ipEvents), {
        portId: guestPort,
        fixedIpAddress: guestAddress,
        routerId,
      }),
    ];
  }
  const floatingIp = { state: foldAll(floatingIpReducer, ipEvents), revision: ipEvents.length - 1 };
  return {
    lan,
    external: { state: externalState, revision: external.revision + withAddress.length },
    router,
    floatingIp,
    gatewayPort,
    guestAddress,
  };
}

const mapOf = <T extends { id: string }>(...folded: Revisioned<T>[]) =>
  new Map(folded.map((each) => [each.state.id, each]));

describe(guestRoutingOf.name, () => {
  it("serves the router's interface, its gateway with SNAT, and the floating IP of a guest behind it", () => {
    const { lan, external, router, floatingIp, gatewayPort, guestAddress } = scene();
    expect(routersNamedOn(lan.state)).toEqual([router.state.id]);
    expect(floatingIpsNamedOn(external.state)).toEqual([floatingIp.state.id]);

    const routing = guestRoutingOf(lan, mapOf(router), mapOf(external), mapOf(floatingIp));
    const interfacePort = [...lan.state.ports.values()].find((port) => port.deviceId === router.state.id)!;
    expect(routing).toEqual({
      networkId: lan.state.id,
      routers: [
        {
          id: router.state.id,
          versions: {
            [`network-${lan.state.id}`]: lan.revision,
            [`router-${router.state.id}`]: router.revision,
            [`network-${external.state.id}`]: external.revision,
            [`floatingip-${floatingIp.state.id}`]: floatingIp.revision,
          },
          interfaces: [{ port: interfacePort.id, mac: mac(1), cidr: '10.0.0.0/24', address: '10.0.0.1' }],
          gateway: {
            port: gatewayPort.id,
            mac: mac(10),
            network: external.state.id,
            cidr: '172.24.4.0/24',
            address: gatewayPort.fixedIps[0]!.ipAddress,
            nexthop: '172.24.4.1',
            snat: true,
          },
          floating: [{ address: floatingIp.state.floatingIpAddress, fixed: guestAddress }],
          routes: [],
        },
      ],
    });
  });

  it("serves the router's IPv4 extra routes", () => {
    const { lan, external, router, floatingIp } = scene();
    const routed: Revisioned<RouterState> = {
      ...router,
      state: {
        ...router.state,
        routes: [
          { destination: '192.0.2.0/24', nexthop: '10.0.0.9' },
          { destination: 'fd00:1::/64', nexthop: 'fd00::9' },
        ],
      },
    };
    const [served] = guestRoutingOf(lan, mapOf(routed), mapOf(external), mapOf(floatingIp)).routers;
    expect(served?.routes).toEqual([{ destination: '192.0.2.0/24', nexthop: '10.0.0.9' }]);
  });

  it('serves no floating IP that is not associated, but names its stream so a later reading wins', () => {
    const { lan, external, router, floatingIp } = scene({ associate: false });
    const [served] = guestRoutingOf(lan, mapOf(router), mapOf(external), mapOf(floatingIp)).routers;
    expect(served?.floating).toEqual([]);
    expect(served?.versions[`floatingip-${floatingIp.state.id}`]).toBe(floatingIp.revision);
  });

  it('serves a router without a gateway with its interface only', () => {
    const { lan, router } = scene({ gateway: false });
    const [served] = guestRoutingOf(lan, mapOf(router), new Map(), new Map()).routers;
    expect(served?.gateway).toBeNull();
    expect(served?.floating).toEqual([]);
    expect(served?.interfaces.map((each) => each.address)).toEqual(['10.0.0.1']);
  });

  it('serves no router that is deleted or was not read', () => {
    const { lan, external, router, floatingIp } = scene();
    expect(guestRoutingOf(lan, new Map(), mapOf(external), mapOf(floatingIp)).routers).toEqual([]);
    const deleted: Revisioned<RouterState> = {
      state: foldAll(routerReducer, [...router.events, ...decideDeleteRouter(router.state, 0)]),
      revision: router.revision + 1,
    };
    expect(guestRoutingOf(lan, mapOf(deleted), mapOf(external), mapOf(floatingIp)).routers).toEqual([]);
  });

  it('serves no floating IP whose guest port is gone from the network', () => {
    const { lan, external, router, floatingIp } = scene();
    const moved: Revisioned<FloatingIpState> = {
      ...floatingIp,
      state: {
        ...floatingIp.state,
        association: { ...floatingIp.state.association!, portId: randomUUID() },
      },
    };
    const [served] = guestRoutingOf(lan, mapOf(router), mapOf(external), mapOf(moved)).routers;
    expect(served?.floating).toEqual([]);
  });
});

describe(validateGuestRouting.name, () => {
  const { lan, external, router, floatingIp } = scene();
  const good = guestRoutingOf(lan, mapOf(router), mapOf(external), mapOf(floatingIp));
  const first = good.routers[0]!;

  it.each([
    ['a router id with a command in it', { ...first, id: 'x; reboot' }],
    ['a stream name that is not one', { ...first, versions: { 'network-../x': 1 } }],
    ['a MAC with an option after it', { ...first, interfaces: [{ ...first.interfaces[0]!, mac: 'fa,x' }] }],
    ['floating IPs without a gateway', { ...first, gateway: null }],
    ['a floating address that is not IPv4', { ...first, floating: [{ address: '::1', fixed: '10.0.0.3' }] }],
    ['a route to an IPv6 network', { ...first, routes: [{ destination: 'fd00::/64', nexthop: '10.0.0.9' }] }],
  ])('refuses %s', (_what, router) => {
    expect(() => validateGuestRouting({ ...good, routers: [router] })).toThrow(InvalidArgument);
  });
});
