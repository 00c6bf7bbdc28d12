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
  dhcpPortOf,
  FLOATING_IP_OWNER,
  ROUTER_GATEWAY_OWNER,
  ROUTER_INTERFACE_OWNER,
  type NetworkState,
  type PortState,
  type SecurityGroupRule,
  type SecurityGroupState,
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

/**
 * One rule of a port's filter: traffic of the protocol (any when null), to the port range (for ICMP,
 * the type and code), from (ingress) or to (egress) one of the remote IPv4 networks.
 */
export interface GuestFilterRule {
  readonly protocol: 'tcp' | 'udp' | 'sctp' | 'icmp' | number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly remote: readonly string[];
}

/**
 * A guest port as the host enforces it: it may send only from its MAC and addresses (anti-spoofing),
 * and its security groups say what may reach it and what it may send.
 */
export interface GuestPortFilter {
  readonly port: string;
  readonly mac: string;
  readonly ips: readonly string[];
  readonly ingress: readonly GuestFilterRule[];
  readonly egress: readonly GuestFilterRule[];
}

export interface GuestNetwork {
  readonly networkId: string;
  readonly revision: number;
  readonly port: { readonly id: string; readonly mac: string };
  readonly subnets: readonly GuestSubnet[];
  readonly hosts: readonly GuestLease[];
  readonly filters: readonly GuestPortFilter[];
}

/** Ports that hold an address but never ask for it by DHCP: they are not a guest's. */
const NOT_GUESTS = new Set([DHCP_OWNER, ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER, FLOATING_IP_OWNER]);

/** The network's ports that a guest's NIC may be. */
function guestPorts(state: NetworkState): PortState[] {
  return [...state.ports.values()].filter((port) => !NOT_GUESTS.has(port.deviceOwner));
}

/**
 * What hosts serve for a network at `revision`, or null when it has nothing to serve (no DHCP port:
 * no subnet with DHCP on). Each port's IPv4 addresses in the served subnets get a static lease under
 * Neutron's default host name, `host-<address with dashes>`, and each guest port a filter made of its
 * security groups' IPv4 rules (`groups` holds every group its ports name; one that is missing or
 * deleted lets nothing through). A rule's remote group stands for the addresses of that group's
 * ports on this network.
 */
export function guestNetworkOf(
  state: NetworkState,
  revision: number,
  groups: ReadonlyMap<string, SecurityGroupState>,
): GuestNetwork | null {
  const dhcp = dhcpPortOf(state);
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
  const guests = guestPorts(state);
  const hosts = guests.flatMap((port) =>
    port.fixedIps
      .filter((ip) => served.has(ip.subnetId))
      .map((ip) => ({
        mac: port.macAddress,
        ip: ip.ipAddress,
        hostname: `host-${ip.ipAddress.replaceAll('.', '-')}`,
      })),
  );
  const filters = guests.flatMap((port) => {
    const ips = port.fixedIps
      .map((ip) => ip.ipAddress)
      .filter((ip) => ipaddr.IPv4.isValidFourPartDecimal(ip));
    return ips.length === 0 ? [] : [filterOf(port, ips, groups, guests)];
  });
  return validateGuestNetwork({
    networkId: state.id,
    revision,
    port: { id: dhcp.id, mac: dhcp.macAddress },
    subnets: subnets.map(({ id: _id, ...subnet }) => subnet),
    hosts,
    filters,
  });
}

/** The security group ids the guest ports of a network name, for the caller to fold. */
export function groupsNamedOn(state: NetworkState): string[] {
  return [...new Set(guestPorts(state).flatMap((port) => port.securityGroupIds))];
}

const PROTOCOL_NUMBERS: Readonly<Record<string, GuestFilterRule['protocol']>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  sctp: 'sctp',
  '132': 'sctp',
  icmp: 'icmp',
  '1': 'icmp',
};

function filterOf(
  port: PortState,
  ips: readonly string[],
  groups: ReadonlyMap<string, SecurityGroupState>,
  guests: readonly PortState[],
): GuestPortFilter {
  const rules = port.securityGroupIds.flatMap((id) => {
    const group = groups.get(id);
    return group && group.exists && !group.deleted ? group.rules : [];
  });
  const toFilter = (rule: SecurityGroupRule): GuestFilterRule | null => {
    if (rule.ethertype !== 'IPv4') return null;
    const protocol =
      rule.protocol === null || rule.protocol === 'any'
        ? null
        : (PROTOCOL_NUMBERS[rule.protocol] ??
          (/^\d+$/.test(rule.protocol) ? Number(rule.protocol) : undefined));
    if (protocol === undefined) return null; // an IPv6 protocol: nothing of it is IPv4
    const remote =
      rule.remoteGroupId !== null
        ? guests
            .filter((port) => port.securityGroupIds.includes(rule.remoteGroupId ?? ''))
            .flatMap((port) => port.fixedIps.map((ip) => `${ip.ipAddress}/32`))
            .filter((prefix) => ipaddr.IPv4.isValidFourPartDecimal(prefix.slice(0, -3)))
        : [rule.remoteIpPrefix ?? '0.0.0.0/0'];
    return { protocol, min: rule.portRangeMin, max: rule.portRangeMax, remote };
  };
  const direction = (which: 'ingress' | 'egress') =>
    rules.filter((rule) => rule.direction === which).flatMap((rule) => toFilter(rule) ?? []);
  return {
    port: port.id,
    mac: port.macAddress,
    ips,
    ingress: direction('ingress'),
    egress: direction('egress'),
  };
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
  for (const filter of network.filters) {
    assertUuid(filter.port, 'filter port');
    assertMac(filter.mac);
    filter.ips.forEach(assertIpv4);
    for (const rule of [...filter.ingress, ...filter.egress]) {
      const { protocol, min, max } = rule;
      const known = ['tcp', 'udp', 'sctp', 'icmp'];
      if (
        protocol !== null &&
        !(typeof protocol === 'string'
          ? known.includes(protocol)
          : Number.isInteger(protocol) && protocol >= 0 && protocol <= 255)
      ) {
        throw new InvalidArgument('a filter rule protocol must be tcp, udp, sctp, icmp, 0-255 or any');
      }
      for (const bound of [min, max]) {
        if (bound !== null && !(Number.isInteger(bound) && bound >= 0 && bound <= 65535)) {
          throw new InvalidArgument('a filter rule bound must be 0 to 65535');
        }
      }
      for (const prefix of rule.remote) {
        if (!isIpv4Cidr(prefix)) throw new InvalidArgument('a filter rule remote must be an IPv4 network');
      }
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

export function assertMac(value: string): void {
  if (typeof value !== 'string' || !PATTERNS.macAddress.test(value)) {
    throw new InvalidArgument('a MAC address must be six lowercase colon-separated octets');
  }
}

export function assertIpv4(value: string): void {
  if (typeof value !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    throw new InvalidArgument('an address must be IPv4 in dotted decimal');
  }
}

export function isIpv4Cidr(value: string): boolean {
  const [address, length, ...rest] = typeof value === 'string' ? value.split('/') : [];
  return (
    rest.length === 0 &&
    address !== undefined &&
    ipaddr.IPv4.isValidFourPartDecimal(address) &&
    /^(\d|[12]\d|3[0-2])$/.test(length ?? '')
  );
}
