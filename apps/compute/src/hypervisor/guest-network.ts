/**
 * A guest network as a host serves it: the network's DHCP server (its port, the IPv4 subnets it serves
 * with their gateway, DNS servers and routes) and the static lease of every port on it, read from the
 * network's stream at one revision. A host never goes back to an older revision than the one it has.
 * Must never accept a value that is not in its exact form: all of it reaches a root helper on the host.
 */
import ipaddr from 'ipaddr.js';

import { PATTERNS } from '#libs/contracts';
import {
  DHCP_OWNER,
  FLOATING_IP_OWNER,
  ROUTER_GATEWAY_OWNER,
  ROUTER_INTERFACE_OWNER,
  type NetworkState,
} from '#libs/domain';

import { assertUuid } from './domain-spec.js';
import { InvalidArgument } from './errors.js';

export interface GuestSubnet {
  readonly cidr: string;
  /** The DHCP port's address in the subnet: the server's own. */
  readonly address: string;
  readonly gateway: string | null;
  readonly dns: readonly string[];
  readonly routes: readonly { readonly destination: string; readonly nexthop: string }[];
}

export interface GuestLease {
  readonly mac: string;
  readonly ip: string;
  readonly hostname: string;
}

export interface GuestNetwork {
  readonly networkId: string;
  readonly revision: number;
  readonly port: { readonly id: string; readonly mac: string };
  readonly subnets: readonly GuestSubnet[];
  readonly hosts: readonly GuestLease[];
}

/** Ports that hold an address but never ask for it by DHCP: they are not a guest's. */
const NOT_GUESTS = new Set([DHCP_OWNER, ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER, FLOATING_IP_OWNER]);

/**
 * What hosts serve for a network at `revision`, or null when it has nothing to serve (no DHCP port:
 * no subnet with DHCP on). Each port's IPv4 addresses in the served subnets get a static lease under
 * Neutron's default host name, `host-<address with dashes>`.
 */
export function guestNetworkOf(state: NetworkState, revision: number): GuestNetwork | null {
  const dhcp = [...state.ports.values()].find((port) => port.deviceOwner === DHCP_OWNER);
  if (!state.exists || state.deleted || !dhcp) return null;
  const subnets = state.subnets.flatMap((subnet) => {
    const own = dhcp.fixedIps.find((ip) => ip.subnetId === subnet.id);
    if (!own || subnet.ipVersion !== 4 || !subnet.enableDhcp) return [];
    return [
      {
        id: subnet.id,
        cidr: subnet.cidr,
        address: own.ipAddress,
        gateway: subnet.gatewayIp,
        dns: subnet.dnsNameservers.filter((server) => ipaddr.IPv4.isValidFourPartDecimal(server)),
        routes: subnet.hostRoutes.map(({ destination, nexthop }) => ({ destination, nexthop })),
      },
    ];
  });
  if (subnets.length === 0) return null;
  const served = new Set(subnets.map((subnet) => subnet.id));
  const hosts = [...state.ports.values()]
    .filter((port) => !NOT_GUESTS.has(port.deviceOwner))
    .flatMap((port) =>
      port.fixedIps
        .filter((ip) => served.has(ip.subnetId))
        .map((ip) => ({
          mac: port.macAddress,
          ip: ip.ipAddress,
          hostname: `host-${ip.ipAddress.replaceAll('.', '-')}`,
        })),
    );
  return validateGuestNetwork({
    networkId: state.id,
    revision,
    port: { id: dhcp.id, mac: dhcp.macAddress },
    subnets: subnets.map(({ id: _id, ...subnet }) => subnet),
    hosts,
  });
}

/** Checks every value again at the driver's door, as a DomainSpec is checked. */
export function validateGuestNetwork(network: GuestNetwork): GuestNetwork {
  assertUuid(network.networkId, 'networkId');
  assertUuid(network.port.id, 'DHCP port id');
  if (!Number.isSafeInteger(network.revision) || network.revision < 0) {
    throw new InvalidArgument('revision must be a non-negative integer');
  }
  assertMac(network.port.mac);
  if (network.subnets.length === 0) throw new InvalidArgument('a guest network serves at least one subnet');
  for (const subnet of network.subnets) {
    if (!isIpv4Cidr(subnet.cidr)) throw new InvalidArgument('a subnet cidr must be an IPv4 network');
    for (const address of [subnet.address, ...subnet.dns, ...(subnet.gateway ? [subnet.gateway] : [])]) {
      assertIpv4(address);
    }
    for (const route of subnet.routes) {
      if (!isIpv4Cidr(route.destination)) throw new InvalidArgument('a route must lead to an IPv4 network');
      assertIpv4(route.nexthop);
    }
  }
  for (const host of network.hosts) {
    assertMac(host.mac);
    assertIpv4(host.ip);
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(host.hostname)) {
      throw new InvalidArgument('a lease host name must be one lowercase DNS label');
    }
  }
  return network;
}

function assertMac(value: string): void {
  if (typeof value !== 'string' || !PATTERNS.macAddress.test(value)) {
    throw new InvalidArgument('a MAC address must be six lowercase colon-separated octets');
  }
}

function assertIpv4(value: string): void {
  if (typeof value !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    throw new InvalidArgument('an address must be IPv4 in dotted decimal');
  }
}

function isIpv4Cidr(value: string): boolean {
  const [address, length, ...rest] = typeof value === 'string' ? value.split('/') : [];
  return (
    rest.length === 0 &&
    address !== undefined &&
    ipaddr.IPv4.isValidFourPartDecimal(address) &&
    /^(\d|[12]\d|3[0-2])$/.test(length ?? '')
  );
}
