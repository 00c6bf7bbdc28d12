/**
 * A network's routers as a host serves them: for each router with an interface on the network, that
 * interface, the router's gateway on its external network and the floating IPs that reach addresses
 * on this network through it, read from the router's, the networks' and the floating IPs' streams.
 * Each router names the revision of every stream it was read from, so a host never takes an older
 * reading over a newer one. Must never accept a value that is not in its exact form: all of it reaches
 * a root helper on the host.
 */
import ipaddr from 'ipaddr.js';

import { streamFor } from '#libs/contracts';
import {
  FLOATING_IP_OWNER,
  type FloatingIpState,
  isLive,
  liveAssociation,
  type NetworkState,
  ROUTER_INTERFACE_OWNER,
  type RouterState,
} from '#libs/domain';

import { assertMac, assertIpv4, isIpv4Cidr } from './guest-network.js';
import { assertUuid } from './domain-spec.js';
import { InvalidArgument } from './errors.js';

export interface GuestRouterInterface {
  readonly port: string;
  readonly mac: string;
  readonly cidr: string;
  /** The router's own address on the subnet: its gateway. */
  readonly address: string;
}

export interface GuestRouterGateway {
  readonly port: string;
  readonly mac: string;
  readonly network: string;
  readonly cidr: string;
  readonly address: string;
  /** The external subnet's gateway: where the router sends what is for elsewhere. */
  readonly nexthop: string | null;
  readonly snat: boolean;
}

export interface GuestRouter {
  readonly id: string;
  /** Stream name to the revision it was read at. */
  readonly versions: Readonly<Record<string, number>>;
  readonly interfaces: readonly GuestRouterInterface[];
  readonly gateway: GuestRouterGateway | null;
  readonly floating: readonly { readonly address: string; readonly fixed: string }[];
  /** The router's IPv4 extra routes. */
  readonly routes: readonly { readonly destination: string; readonly nexthop: string }[];
}

export interface GuestRouting {
  readonly networkId: string;
  readonly routers: readonly GuestRouter[];
}

/** A stream's state with the revision it was folded at. */
export interface Revisioned<T> {
  readonly state: T;
  readonly revision: number;
}

/** The routers with an interface on the network, for the caller to fold. */
export function routersNamedOn(state: NetworkState): string[] {
  const ports = [...state.ports.values()];
  return [
    ...new Set(ports.filter((port) => port.deviceOwner === ROUTER_INTERFACE_OWNER).map((p) => p.deviceId)),
  ];
}

/** The floating IPs that hold an address on an external network, for the caller to fold. */
export function floatingIpsNamedOn(state: NetworkState): string[] {
  const ports = [...state.ports.values()];
  return ports.filter((port) => port.deviceOwner === FLOATING_IP_OWNER).map((port) => port.deviceId);
}

const isIpv4 = (address: string): boolean => ipaddr.IPv4.isValidFourPartDecimal(address);

/**
 * The routers a host serves for `network`: each live router named on it with an IPv4 interface there.
 * `externals` holds the external networks of their gateways and `floatingIps` every floating IP named
 * on those; a floating IP counts when its association is live, through this router, to an address on
 * this network.
 */
export function guestRoutingOf(
  network: Revisioned<NetworkState>,
  routers: ReadonlyMap<string, Revisioned<RouterState>>,
  externals: ReadonlyMap<string, Revisioned<NetworkState>>,
  floatingIps: ReadonlyMap<string, Revisioned<FloatingIpState>>,
): GuestRouting {
  const { state } = network;
  const subnetCidr = (of: NetworkState, subnetId: string) =>
    of.subnets.find((subnet) => subnet.id === subnetId && subnet.ipVersion === 4)?.cidr;
  const served = routersNamedOn(state).flatMap((routerId): GuestRouter[] => {
    const router = routers.get(routerId);
    if (!router || !isLive(router.state)) return [];
    const interfaces = [...state.ports.values()]
      .filter((port) => port.deviceId === routerId && port.deviceOwner === ROUTER_INTERFACE_OWNER)
      .flatMap((port) =>
        port.fixedIps.flatMap((ip) => {
          const cidr = subnetCidr(state, ip.subnetId);
          return cidr && isIpv4(ip.ipAddress)
            ? [{ port: port.id, mac: port.macAddress, cidr, address: ip.ipAddress }]
            : [];
        }),
      );
    if (interfaces.length === 0) return [];
    const versions: Record<string, number> = {
      [streamFor('network', state.id)]: network.revision,
      [streamFor('router', routerId)]: router.revision,
    };
    const gateway = gatewayOf(router.state, externals, versions);
    const inside = interfaces.map(({ cidr }) => ipaddr.parseCIDR(cidr));
    const floating = gateway
      ? [...floatingIps.values()].flatMap(({ state: ip, revision }) => {
          if (ip.floatingNetworkId !== gateway.network) return [];
          versions[streamFor('floatingip', ip.id)] = revision;
          const association = isLive(ip) ? liveAssociation(ip, (id) => state.ports.get(id)) : null;
          if (association?.routerId !== routerId || !isIpv4(association.fixedIpAddress)) return [];
          const fixed = ipaddr.IPv4.parse(association.fixedIpAddress);
          const behind = inside.some(([base, bits]) => base.kind() === 'ipv4' && fixed.match(base, bits));
          return behind ? [{ address: ip.floatingIpAddress, fixed: association.fixedIpAddress }] : [];
        })
      : [];
    const routes = router.state.routes
      .filter(({ destination, nexthop }) => isIpv4Cidr(destination) && isIpv4(nexthop))
      .map(({ destination, nexthop }) => ({ destination, nexthop }));
    return [{ id: routerId, versions, interfaces, gateway, floating, routes }];
  });
  return validateGuestRouting({ networkId: state.id, routers: served });
}

function gatewayOf(
  router: RouterState,
  externals: ReadonlyMap<string, Revisioned<NetworkState>>,
  versions: Record<string, number>,
): GuestRouterGateway | null {
  if (router.gateway === null) return null;
  const external = externals.get(router.gateway.networkId);
  if (!external || !isLive(external.state)) return null;
  versions[streamFor('network', external.state.id)] = external.revision;
  const port = external.state.ports.get(router.gateway.portId);
  for (const ip of port?.fixedIps ?? []) {
    const subnet = external.state.subnets.find((each) => each.id === ip.subnetId && each.ipVersion === 4);
    if (!port || !subnet || !isIpv4(ip.ipAddress)) continue;
    return {
      port: port.id,
      mac: port.macAddress,
      network: external.state.id,
      cidr: subnet.cidr,
      address: ip.ipAddress,
      nexthop: subnet.gatewayIp !== null && isIpv4(subnet.gatewayIp) ? subnet.gatewayIp : null,
      snat: router.gateway.enableSnat,
    };
  }
  return null;
}

const STREAM = /^[a-z]{1,20}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks every value again at the driver's door, as the helper on the host checks it once more. */
export function validateGuestRouting(routing: GuestRouting): GuestRouting {
  assertUuid(routing.networkId, 'networkId');
  for (const router of routing.routers) {
    assertUuid(router.id, 'router id');
    const versions = Object.entries(router.versions);
    if (versions.length === 0) throw new InvalidArgument('a router names the streams it was read from');
    for (const [stream, revision] of versions) {
      if (!STREAM.test(stream) || !Number.isSafeInteger(revision) || revision < 0) {
        throw new InvalidArgument('a router version maps a stream name to a non-negative revision');
      }
    }
    if (router.interfaces.length === 0) throw new InvalidArgument('a router served has an interface');
    const ports = [...router.interfaces, ...(router.gateway ? [router.gateway] : [])];
    for (const port of ports) {
      assertUuid(port.port, 'router port');
      assertMac(port.mac);
      assertIpv4(port.address);
      if (!isIpv4Cidr(port.cidr)) throw new InvalidArgument('a router port cidr must be an IPv4 network');
    }
    if (router.gateway) {
      assertUuid(router.gateway.network, 'gateway network');
      if (router.gateway.nexthop !== null) assertIpv4(router.gateway.nexthop);
    } else if (router.floating.length > 0) {
      throw new InvalidArgument('a router without a gateway holds no floating IP');
    }
    for (const { address, fixed } of router.floating) {
      assertIpv4(address);
      assertIpv4(fixed);
    }
    for (const { destination, nexthop } of router.routes) {
      if (!isIpv4Cidr(destination)) throw new InvalidArgument('a route must lead to an IPv4 network');
      assertIpv4(nexthop);
    }
  }
  return routing;
}
