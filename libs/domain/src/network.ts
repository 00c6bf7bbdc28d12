/**
 * The network aggregate: a network, its subnets and its ports as the fold of `network-<uuid>`, and the
 * decisions Neutron's API meets: creating and changing each, the addresses a port gets from its subnets'
 * pools, and what may not be deleted while something uses it. Errors carry Neutron's type names, which
 * the API sends as `NeutronError.type`.
 * Pure: no I/O, no clock, no randomness (ids and MAC addresses come in with the request).
 */
import {
  type DecodedEvent,
  type IpVersion,
  NetworkCreated,
  NetworkDeleted,
  type NetworkEvent,
  NetworkUpdated,
  type Plain,
  PortCreated,
  PortDeleted,
  PortUpdated,
  SubnetCreated,
  SubnetDeleted,
  SubnetUpdated,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { DomainError, type DomainErrorCode } from './errors.js';
import {
  type AddressRange,
  canonicalAddress,
  contains,
  defaultPools,
  firstFree,
  formatPrefix,
  fromBigInt,
  hostRange,
  overlaps,
  parsePrefix,
  toBigInt,
  versionOf,
} from './ip-ranges.js';

/** A refusal in Neutron's terms: its exception's type name and message. */
export class NetworkError extends DomainError {
  override readonly name = 'NetworkError';
  constructor(
    readonly code: DomainErrorCode,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidInput = (message: string): NetworkError =>
  new NetworkError('BadRequest', 'InvalidInput', `Invalid input for operation: ${message}`);

export const networkNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'NetworkNotFound', `Network ${id} could not be found.`);
export const subnetNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'SubnetNotFound', `Subnet ${id} could not be found.`);
export const portNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'PortNotFound', `Port ${id} could not be found.`);

export interface FixedIpState {
  readonly subnetId: string;
  readonly ipAddress: string;
}

export interface SubnetState {
  readonly id: string;
  readonly networkId: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly ipVersion: IpVersion;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly { readonly start: string; readonly end: string }[];
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly { readonly destination: string; readonly nexthop: string }[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface PortState {
  readonly id: string;
  readonly networkId: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly macAddress: string;
  readonly fixedIps: readonly FixedIpState[];
  readonly deviceId: string;
  readonly deviceOwner: string;
  readonly adminStateUp: boolean;
  readonly securityGroupIds: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NetworkState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly shared: boolean;
  readonly external: boolean;
  readonly adminStateUp: boolean;
  readonly mtu: number;
  /** In creation order, which is the order addresses are allocated from. */
  readonly subnets: readonly SubnetState[];
  readonly ports: ReadonlyMap<string, PortState>;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export const initialNetwork = (): NetworkState => ({
  exists: false,
  deleted: false,
  id: '',
  projectId: '',
  name: '',
  description: '',
  shared: false,
  external: false,
  adminStateUp: true,
  mtu: 1500,
  subnets: [],
  ports: new Map(),
  createdAt: null,
  updatedAt: null,
});

/** Copies without the keys whose value is undefined, so an update's absent fields keep their values. */
function defined<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function withPort(state: NetworkState, port: PortState | null, id: string): ReadonlyMap<string, PortState> {
  const ports = new Map(state.ports);
  if (port === null) ports.delete(id);
  else ports.set(id, port);
  return ports;
}

export function evolveNetwork(state: NetworkState, event: DecodedEvent): NetworkState {
  if (!isKnownEvent(event)) return state;
  const at = event.metadata.occurredAt;
  const known = event as NetworkEvent;
  const next = applyNetworkEvent(state, known, at);
  return next === state ? state : { ...next, updatedAt: at };
}

function applyNetworkEvent(state: NetworkState, event: NetworkEvent, at: string): NetworkState {
  switch (event.type) {
    case 'NetworkCreated': {
      const { networkId, ...fields } = event.data;
      return { ...initialNetwork(), ...fields, exists: true, id: networkId, createdAt: at };
    }
    case 'NetworkUpdated': {
      const { networkId: _id, ...changes } = event.data;
      return { ...state, ...defined(changes) };
    }
    case 'NetworkDeleted':
      return { ...state, deleted: true, subnets: [], ports: new Map() };
    case 'SubnetCreated': {
      const { subnetId, ...fields } = event.data;
      const subnet: SubnetState = { ...fields, id: subnetId, createdAt: at, updatedAt: at };
      return { ...state, subnets: [...state.subnets, subnet] };
    }
    case 'SubnetUpdated': {
      const { subnetId, networkId: _id, ...changes } = event.data;
      const subnets = state.subnets.map((subnet) =>
        subnet.id === subnetId ? { ...subnet, ...defined(changes), updatedAt: at } : subnet,
      );
      return { ...state, subnets };
    }
    case 'SubnetDeleted':
      return { ...state, subnets: state.subnets.filter((subnet) => subnet.id !== event.data.subnetId) };
    case 'PortCreated': {
      const { portId, ...fields } = event.data;
      const port: PortState = { ...fields, id: portId, createdAt: at, updatedAt: at };
      return { ...state, ports: withPort(state, port, portId) };
    }
    case 'PortUpdated': {
      const { portId, networkId: _id, projectId: _project, ...changes } = event.data;
      const port = state.ports.get(portId);
      if (!port) return state;
      return { ...state, ports: withPort(state, { ...port, ...defined(changes), updatedAt: at }, portId) };
    }
    case 'PortDeleted':
      return { ...state, ports: withPort(state, null, event.data.portId) };
  }
  return state;
}

export const networkReducer = { initial: initialNetwork, evolve: evolveNetwork };

/** Whether an aggregate of the network API exists and is not deleted. */
export const isLive = (state: { readonly exists: boolean; readonly deleted: boolean }): boolean =>
  state.exists && !state.deleted;

function mustExist(state: NetworkState, networkId: string): void {
  if (!isLive(state)) throw networkNotFound(networkId);
}

// ---------------------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------------------

export function decideCreateNetwork(state: NetworkState, network: Plain<NetworkCreated>): NetworkCreated[] {
  if (state.exists)
    throw new NetworkError('Conflict', 'NetworkExists', `Network ${network.networkId} already exists.`);
  return [build(NetworkCreated, network)];
}

export type NetworkChanges = Omit<Plain<NetworkUpdated>, 'networkId'>;

export function decideUpdateNetwork(state: NetworkState, changes: NetworkChanges): NetworkUpdated[] {
  mustExist(state, state.id);
  const changed = Object.entries(defined(changes)).filter(
    ([key, value]) => state[key as keyof NetworkChanges] !== value,
  );
  if (changed.length === 0) return [];
  return [build(NetworkUpdated, { networkId: state.id, ...Object.fromEntries(changed) })];
}

/**
 * Neutron's NetworkInUse: a network with ports is not deleted; its subnets go with it, and so does its
 * DHCP port, which is the network's own and no user's.
 */
export function decideDeleteNetwork(
  state: NetworkState,
  networkId: string,
): (PortDeleted | NetworkDeleted)[] {
  mustExist(state, networkId);
  const ports = [...state.ports.values()];
  if (ports.some((port) => port.deviceOwner !== DHCP_OWNER)) {
    throw new NetworkError(
      'Conflict',
      'NetworkInUse',
      `Unable to complete operation on network ${networkId}. There are one or more ports still in use on the network.`,
    );
  }
  return [
    ...ports.map((port) => build(PortDeleted, { networkId, portId: port.id, projectId: port.projectId })),
    build(NetworkDeleted, { networkId }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Subnets
// ---------------------------------------------------------------------------------------------------------

export interface SubnetRequest {
  readonly subnetId: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly ipVersion: IpVersion;
  readonly cidr: string;
  /** Undefined: the first address of the prefix; null: no gateway. */
  readonly gatewayIp?: string | null;
  readonly allocationPools?: readonly { readonly start: string; readonly end: string }[];
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes?: readonly { readonly destination: string; readonly nexthop: string }[];
}

const rangeOf = (pool: { readonly start: string; readonly end: string }): AddressRange => ({
  first: toBigInt(pool.start),
  last: toBigInt(pool.end),
});

function addressIn(text: string, version: IpVersion, what: string): bigint {
  const canonical = canonicalAddress(text);
  if (canonical === null || versionOf(canonical) !== version) {
    throw invalidInput(`'${text}' is not a valid IPv${version} address for ${what}.`);
  }
  return toBigInt(canonical);
}

/** DNS servers in canonical form, each once: Neutron's 400 otherwise. */
function checkedNameservers(servers: readonly string[]): string[] {
  const canonical = servers.map((server) => {
    const address = canonicalAddress(server);
    if (address === null) throw invalidInput(`'${server}' is not a valid nameserver.`);
    return address;
  });
  if (new Set(canonical).size !== canonical.length) {
    throw invalidInput(`Duplicate nameserver in ${servers.join(', ')}.`);
  }
  return canonical;
}

/** Host routes in canonical form, each of the subnet's IP version and each once: Neutron's 400 otherwise. */
function checkedRoutes(
  routes: readonly { readonly destination: string; readonly nexthop: string }[],
  version: IpVersion,
): { destination: string; nexthop: string }[] {
  const checked = routes.map((route) => {
    const destination = parsePrefix(route.destination.toLowerCase());
    const nexthop = canonicalAddress(route.nexthop);
    if (
      !('prefix' in destination) ||
      destination.prefix.version !== version ||
      nexthop === null ||
      versionOf(nexthop) !== version
    ) {
      throw invalidInput(
        `Invalid host route ${route.destination} via ${route.nexthop} for an IPv${version} subnet.`,
      );
    }
    return { destination: formatPrefix(destination.prefix), nexthop };
  });
  if (new Set(checked.map((route) => JSON.stringify(route))).size !== checked.length) {
    throw invalidInput('Duplicate hostroute in the request.');
  }
  return checked;
}

/**
 * A new subnet, and with `dhcp` (the identity the network's DHCP port has or gets) the DHCP port given an
 * address in it when it has DHCP on.
 */
export function decideCreateSubnet(
  state: NetworkState,
  request: SubnetRequest,
  dhcp?: DhcpPortIdentity,
): (SubnetCreated | DhcpPortEvent)[] {
  mustExist(state, state.id);
  const parsed = parsePrefix(request.cidr.toLowerCase());
  if ('error' in parsed) {
    throw invalidInput(
      parsed.error === 'host-bits'
        ? `'${request.cidr}' isn't a recognized IP subnet cidr, '${parsed.recommended}' is recommended`
        : `'${request.cidr}' is not a valid IP subnet.`,
    );
  }
  const { prefix } = parsed;
  if (prefix.version !== request.ipVersion) {
    throw invalidInput('Cidr and ip_version are not compatible');
  }
  const cidr = formatPrefix(prefix);
  for (const subnet of state.subnets) {
    const other = parsePrefix(subnet.cidr);
    if ('prefix' in other && overlaps(prefix, other.prefix)) {
      throw invalidInput(
        `Requested subnet with cidr: ${cidr} for network: ${state.id} overlaps with another subnet.`,
      );
    }
  }
  const gateway =
    request.gatewayIp === null
      ? null
      : request.gatewayIp === undefined
        ? prefix.first + 1n
        : addressIn(request.gatewayIp, prefix.version, 'gateway_ip');
  const hosts = hostRange(prefix);
  if (gateway !== null && (!contains(hosts, gateway) || gateway === prefix.first)) {
    throw invalidInput(`Gateway IP ${fromBigInt(gateway, prefix.version)} is not valid on subnet ${cidr}.`);
  }
  const pools = request.allocationPools
    ? request.allocationPools.map((pool) => ({
        first: addressIn(pool.start, prefix.version, 'allocation_pools'),
        last: addressIn(pool.end, prefix.version, 'allocation_pools'),
      }))
    : defaultPools(prefix, gateway);
  pools.forEach((pool, index) => {
    const text = `${fromBigInt(pool.first, prefix.version)}-${fromBigInt(pool.last, prefix.version)}`;
    if (pool.first > pool.last || !contains(hosts, pool.first) || !contains(hosts, pool.last)) {
      throw new NetworkError(
        'BadRequest',
        'InvalidAllocationPool',
        `The allocation pool ${text} spans beyond the subnet cidr ${cidr}.`,
      );
    }
    if (gateway !== null && contains(pool, gateway)) {
      throw new NetworkError(
        'Conflict',
        'GatewayConflictWithAllocationPools',
        `Gateway ip ${fromBigInt(gateway, prefix.version)} conflicts with allocation pool ${text}`,
      );
    }
    if (pools.some((other, otherIndex) => otherIndex !== index && overlaps(pool, other))) {
      throw new NetworkError(
        'BadRequest',
        'OverlappingAllocationPools',
        `Found overlapping allocation pools: ${text}`,
      );
    }
  });
  const dnsNameservers = checkedNameservers(request.dnsNameservers);
  const hostRoutes = checkedRoutes(request.hostRoutes ?? [], prefix.version);
  const created = build(SubnetCreated, {
    networkId: state.id,
    subnetId: request.subnetId,
    projectId: request.projectId,
    name: request.name,
    description: request.description,
    ipVersion: request.ipVersion,
    cidr,
    gatewayIp: gateway === null ? null : fromBigInt(gateway, prefix.version),
    allocationPools: pools.map((pool) => ({
      start: fromBigInt(pool.first, prefix.version),
      end: fromBigInt(pool.last, prefix.version),
    })),
    enableDhcp: request.enableDhcp,
    dnsNameservers,
    hostRoutes,
  });
  if (dhcp === undefined) return [created];
  const { subnetId, networkId: _network, ...fields } = created;
  const subnet: SubnetState = { ...fields, networkId: state.id, id: subnetId, createdAt: '', updatedAt: '' };
  return [created, ...decideDhcpPort(state, [...state.subnets, subnet], dhcp)];
}

export function subnetOf(state: NetworkState, subnetId: string): SubnetState {
  const subnet = state.subnets.find((candidate) => candidate.id === subnetId);
  if (!isLive(state) || !subnet) throw subnetNotFound(subnetId);
  return subnet;
}

export type SubnetChanges = Omit<Plain<SubnetUpdated>, 'networkId' | 'subnetId'>;

/** A subnet's change, and with `dhcp` the DHCP port's address in it following its DHCP switch. */
export function decideUpdateSubnet(
  state: NetworkState,
  subnetId: string,
  changes: SubnetChanges,
  dhcp?: DhcpPortIdentity,
): (SubnetUpdated | DhcpPortEvent)[] {
  const subnet = subnetOf(state, subnetId);
  const wanted = defined({
    ...changes,
    dnsNameservers: changes.dnsNameservers && checkedNameservers(changes.dnsNameservers),
    hostRoutes: changes.hostRoutes && checkedRoutes(changes.hostRoutes, subnet.ipVersion),
    gatewayIp: changes.gatewayIp === undefined ? undefined : checkedGateway(state, subnet, changes.gatewayIp),
  });
  const changed = Object.entries(wanted).filter(
    ([key, value]) => JSON.stringify(subnet[key as keyof SubnetChanges]) !== JSON.stringify(value),
  );
  if (changed.length === 0) return [];
  const updated = build(SubnetUpdated, { networkId: state.id, subnetId, ...Object.fromEntries(changed) });
  if (dhcp === undefined) return [updated];
  const subnets = state.subnets.map((candidate) =>
    candidate.id === subnetId ? { ...candidate, ...wanted } : candidate,
  );
  return [updated, ...decideDhcpPort(state, subnets, dhcp)];
}

/** A new gateway: in the subnet's host addresses, outside its pools, and not a port's address. */
function checkedGateway(state: NetworkState, subnet: SubnetState, gateway: string | null): string | null {
  if (gateway === null) return null;
  const parsed = parsePrefix(subnet.cidr);
  const value = canonicalAddress(gateway);
  if (!('prefix' in parsed) || value === null || versionOf(value) !== subnet.ipVersion) {
    throw invalidInput(`Gateway IP ${gateway} is not valid on subnet ${subnet.cidr}.`);
  }
  const address = toBigInt(value);
  if (!contains(hostRange(parsed.prefix), address) || address === parsed.prefix.first) {
    throw invalidInput(`Gateway IP ${value} is not valid on subnet ${subnet.cidr}.`);
  }
  if (subnet.allocationPools.some((pool) => contains(rangeOf(pool), address))) {
    throw new NetworkError(
      'Conflict',
      'GatewayConflictWithAllocationPools',
      `Gateway ip ${value} conflicts with allocation pool`,
    );
  }
  const holder = [...state.ports.values()].find((port) =>
    port.fixedIps.some((ip) => ip.subnetId === subnet.id && ip.ipAddress === value),
  );
  if (holder) {
    throw new NetworkError(
      'Conflict',
      'GatewayIpInUse',
      `Current gateway ip ${value} already in use by port ${holder.id}. Unable to update.`,
    );
  }
  return value;
}

/** Neutron's SubnetInUse for a user's address in it; the DHCP port's address in it goes first. */
export function decideDeleteSubnet(state: NetworkState, subnetId: string): (DhcpPortEvent | SubnetDeleted)[] {
  subnetOf(state, subnetId);
  const inUse = [...state.ports.values()].some(
    (port) => port.deviceOwner !== DHCP_OWNER && port.fixedIps.some((ip) => ip.subnetId === subnetId),
  );
  if (inUse) {
    throw new NetworkError(
      'Conflict',
      'SubnetInUse',
      `Unable to complete operation on subnet ${subnetId}: One or more ports have an IP allocation from this subnet.`,
    );
  }
  const dhcp = dhcpPortOf(state);
  const subnets = state.subnets.filter((subnet) => subnet.id !== subnetId);
  return [
    ...(dhcp === undefined
      ? []
      : decideDhcpPort(state, subnets, { portId: dhcp.id, macAddress: dhcp.macAddress })),
    build(SubnetDeleted, { networkId: state.id, subnetId }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The DHCP port
// ---------------------------------------------------------------------------------------------------------

/** Neutron's device owner of the port a network's DHCP server answers from. */
export const DHCP_OWNER = 'network:dhcp';

/** Which port a network's DHCP server is: chosen by the caller (derived from the network's id, so made once). */
export interface DhcpPortIdentity {
  readonly portId: string;
  readonly macAddress: string;
}

export type DhcpPortEvent = PortCreated | PortUpdated | PortDeleted;

export function dhcpPortOf(state: NetworkState): PortState | undefined {
  return [...state.ports.values()].find((port) => port.deviceOwner === DHCP_OWNER);
}

/**
 * The network's DHCP port brought in line with `subnets` (its subnets once a change is made), as
 * Neutron's DHCP agent keeps it: one address in each IPv4 subnet with DHCP on, kept once it has one,
 * taken from the pools like any port's; made with the first such subnet, deleted with the last. A
 * subnet whose pools are full gets no DHCP address and is refused nothing for it; a port that would
 * hold no address is not kept.
 */
export function decideDhcpPort(
  state: NetworkState,
  subnets: readonly SubnetState[],
  identity: DhcpPortIdentity,
): DhcpPortEvent[] {
  const port = dhcpPortOf(state);
  const served = subnets.filter((subnet) => subnet.enableDhcp && subnet.ipVersion === 4);
  if (served.length === 0) {
    return port
      ? [build(PortDeleted, { networkId: state.id, portId: port.id, projectId: port.projectId })]
      : [];
  }
  const portId = port?.id ?? identity.portId;
  const fixedIps = (port?.fixedIps ?? []).filter((ip) => served.some((subnet) => subnet.id === ip.subnetId));
  for (const subnet of served) {
    if (fixedIps.some((ip) => ip.subnetId === subnet.id)) continue;
    const holding = { ...(port ?? placeholderPort(portId)), fixedIps: [...fixedIps] };
    const view: NetworkState = { ...state, subnets, ports: withPort(state, holding, portId) };
    try {
      fixedIps.push(...allocate(view, [{ subnetId: subnet.id }]));
    } catch (error) {
      if (!(error instanceof NetworkError && error.type === 'IpAddressGenerationFailure')) throw error;
    }
  }
  if (fixedIps.length === 0) {
    return port ? [build(PortDeleted, { networkId: state.id, portId, projectId: port.projectId })] : [];
  }
  if (!port) {
    return [
      build(PortCreated, {
        networkId: state.id,
        portId,
        projectId: state.projectId,
        name: '',
        description: '',
        macAddress: identity.macAddress,
        fixedIps,
        deviceId: `dhcp-${state.id}`,
        deviceOwner: DHCP_OWNER,
        adminStateUp: true,
        securityGroupIds: [],
      }),
    ];
  }
  if (JSON.stringify(fixedIps) === JSON.stringify(port.fixedIps)) return [];
  return [build(PortUpdated, { networkId: state.id, portId, projectId: port.projectId, fixedIps })];
}

function placeholderPort(id: string): PortState {
  return {
    id,
    networkId: '',
    projectId: '',
    name: '',
    description: '',
    macAddress: '',
    fixedIps: [],
    deviceId: '',
    deviceOwner: DHCP_OWNER,
    adminStateUp: true,
    securityGroupIds: [],
    createdAt: '',
    updatedAt: '',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------------------

/** One entry of a port's `fixed_ips` as asked: a subnet to allocate from, an address, or both. */
export interface FixedIpRequest {
  readonly subnetId?: string;
  readonly ipAddress?: string;
}

export interface PortRequest {
  readonly portId: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly macAddress: string;
  /** Undefined: one address from the first subnet of each IP version that has one free. */
  readonly fixedIps?: readonly FixedIpRequest[];
  readonly deviceId: string;
  readonly deviceOwner: string;
  readonly adminStateUp: boolean;
  readonly securityGroupIds: readonly string[];
}

/** Every address of the network in use: ports' (but `except`'s) and gateways'. */
/** Neutron's device owners of a router's ports; an interface is the one port that may hold a gateway address. */
export const ROUTER_INTERFACE_OWNER = 'network:router_interface';
export const ROUTER_GATEWAY_OWNER = 'network:router_gateway';
/** The device owner of the port that holds a floating IP's address on its external network. */
export const FLOATING_IP_OWNER = 'network:floatingip';

function takenAddresses(
  state: NetworkState,
  except?: PortState,
  gatewayFree = false,
): Map<string, Set<bigint>> {
  const taken = new Map(state.subnets.map((subnet) => [subnet.id, new Set<bigint>()]));
  for (const subnet of state.subnets) {
    if (subnet.gatewayIp !== null && !gatewayFree) taken.get(subnet.id)?.add(toBigInt(subnet.gatewayIp));
  }
  for (const port of state.ports.values()) {
    if (port === except) continue;
    for (const ip of port.fixedIps) taken.get(ip.subnetId)?.add(toBigInt(ip.ipAddress));
  }
  return taken;
}

/**
 * The addresses for a new port, or for `port`'s change of them: an entry naming a subnet where the
 * port already has an address keeps it, others get the first free address or the one they name.
 */
function allocate(
  state: NetworkState,
  requests: readonly FixedIpRequest[] | undefined,
  port?: PortState,
  gatewayFree = false,
): FixedIpState[] {
  const taken = takenAddresses(state, port, gatewayFree);
  const kept = [...(port?.fixedIps ?? [])];
  const fromSubnet = (subnet: SubnetState): FixedIpState | null => {
    const used = taken.get(subnet.id) ?? new Set<bigint>();
    const free = firstFree(subnet.allocationPools.map(rangeOf), used);
    if (free === null) return null;
    used.add(free);
    return { subnetId: subnet.id, ipAddress: fromBigInt(free, subnet.ipVersion) };
  };
  const exhausted = (): NetworkError =>
    new NetworkError(
      'Conflict',
      'IpAddressGenerationFailure',
      `No more IP addresses available on network ${state.id}.`,
    );

  if (requests === undefined) {
    const chosen: FixedIpState[] = [];
    for (const version of [4, 6] as const) {
      const subnets = state.subnets.filter((subnet) => subnet.ipVersion === version);
      if (subnets.length === 0) continue;
      const ip = subnets.reduce<FixedIpState | null>((found, subnet) => found ?? fromSubnet(subnet), null);
      if (ip === null) throw exhausted();
      chosen.push(ip);
    }
    return chosen;
  }
  return requests.map((request) => {
    if (request.ipAddress === undefined) {
      if (request.subnetId === undefined)
        throw invalidInput('Invalid fixed_ips: an entry names no subnet and no address.');
      const keptIndex = kept.findIndex((ip) => ip.subnetId === request.subnetId);
      const [own] = keptIndex < 0 ? [] : kept.splice(keptIndex, 1);
      if (own) {
        taken.get(own.subnetId)?.add(toBigInt(own.ipAddress));
        return own;
      }
      const ip = fromSubnet(subnetOf(state, request.subnetId));
      if (ip === null) throw exhausted();
      return ip;
    }
    const address = canonicalAddress(request.ipAddress);
    if (address === null) throw invalidInput(`${request.ipAddress} is not a valid IP address.`);
    const value = toBigInt(address);
    const subnet = state.subnets.find((candidate) => {
      const parsed = parsePrefix(candidate.cidr);
      return (
        (request.subnetId === undefined || candidate.id === request.subnetId) &&
        'prefix' in parsed &&
        versionOf(address) === candidate.ipVersion &&
        contains(hostRange(parsed.prefix), value)
      );
    });
    if (!subnet) {
      if (request.subnetId !== undefined) subnetOf(state, request.subnetId);
      throw new NetworkError(
        'BadRequest',
        'InvalidIpForNetwork',
        `IP address ${address} is not a valid IP for any of the subnets on the specified network.`,
      );
    }
    const used = taken.get(subnet.id) ?? new Set<bigint>();
    if (used.has(value)) {
      throw new NetworkError(
        'Conflict',
        'IpAddressAlreadyAllocated',
        `IP address ${address} already allocated in subnet ${subnet.id}`,
      );
    }
    used.add(value);
    return { subnetId: subnet.id, ipAddress: address };
  });
}

/**
 * The device owners a port's user may not give it: the network's DHCP port is the network's own
 * (made and kept by its subnets' decisions), and a server's NIC does not become a network device,
 * which hosts neither filter nor hold to its addresses.
 */
function checkDeviceOwner(deviceOwner: string | undefined, port?: PortState): void {
  if (deviceOwner === DHCP_OWNER) {
    throw new NetworkError(
      'BadRequest',
      'InvalidInput',
      `Invalid input for device_owner: ${DHCP_OWNER} is kept for the network's own DHCP port.`,
    );
  }
  if (
    port !== undefined &&
    deviceOwner !== undefined &&
    port.deviceOwner.startsWith('compute:') &&
    deviceOwner.startsWith('network:')
  ) {
    throw new NetworkError(
      'Conflict',
      'PortInUse',
      `Port ${port.id} is bound to server ${port.deviceId}: it cannot become a ${deviceOwner} port.`,
    );
  }
}

export function decideCreatePort(state: NetworkState, request: PortRequest): PortCreated[] {
  mustExist(state, state.id);
  checkDeviceOwner(request.deviceOwner);
  if (state.ports.has(request.portId))
    throw new NetworkError('Conflict', 'PortExists', `Port ${request.portId} already exists.`);
  const macAddress = request.macAddress.toLowerCase();
  if ([...state.ports.values()].some((port) => port.macAddress === macAddress)) {
    throw new NetworkError(
      'Conflict',
      'MacAddressInUse',
      `Unable to complete operation for network ${state.id}. The mac address ${macAddress} is in use.`,
    );
  }
  const fixedIps = allocate(
    state,
    request.fixedIps,
    undefined,
    request.deviceOwner === ROUTER_INTERFACE_OWNER,
  );
  const { fixedIps: _asked, ...fields } = request;
  return [build(PortCreated, { ...fields, networkId: state.id, macAddress, fixedIps })];
}

export function portOf(state: NetworkState, portId: string): PortState {
  const port = state.ports.get(portId);
  if (!isLive(state) || !port) throw portNotFound(portId);
  return port;
}

/** A port update as asked: its attributes, and its addresses as requests to allocate. */
export type PortChanges = Omit<Plain<PortUpdated>, 'networkId' | 'portId' | 'projectId' | 'fixedIps'> & {
  readonly fixedIps?: readonly FixedIpRequest[];
};

export function decideUpdatePort(state: NetworkState, portId: string, changes: PortChanges): PortUpdated[] {
  const port = portOf(state, portId);
  checkDeviceOwner(changes.deviceOwner === port.deviceOwner ? undefined : changes.deviceOwner, port);
  const { fixedIps: asked, ...attributes } = changes;
  const fixedIps = asked === undefined ? undefined : allocate(state, asked, port);
  const changed = Object.entries(defined({ ...attributes, fixedIps })).filter(
    ([key, value]) => JSON.stringify(port[key as keyof PortState]) !== JSON.stringify(value),
  );
  if (changed.length === 0) return [];
  return [
    build(PortUpdated, {
      networkId: state.id,
      portId,
      projectId: port.projectId,
      ...Object.fromEntries(changed),
    }),
  ];
}

export function decideDeletePort(state: NetworkState, portId: string): PortDeleted[] {
  const port = portOf(state, portId);
  return [build(PortDeleted, { networkId: state.id, portId, projectId: port.projectId })];
}

/**
 * A port the user named for a server becomes its NIC: Nova's PortInUse (409) when another device holds
 * it. Deciding on the network stream makes two boots racing for one port end with one holder.
 */
export function decideBindPort(
  state: NetworkState,
  portId: string,
  device: { readonly deviceId: string; readonly deviceOwner: string },
): PortUpdated[] {
  const port = portOf(state, portId);
  if (port.deviceId === device.deviceId) return [];
  if (port.deviceId !== '') {
    throw new NetworkError('Conflict', 'PortInUse', `Port ${portId} is still in use.`);
  }
  return [build(PortUpdated, { networkId: state.id, portId, projectId: port.projectId, ...device })];
}

/**
 * A port a server no longer uses, once the server is gone: deleted when it was made for the server,
 * unbound (kept, with its addresses) when the user brought it; nothing when it already went or now
 * serves another device. Idempotent, so a release retried after a crash changes nothing more.
 */
export function decideReleasePort(
  state: NetworkState,
  portId: string,
  instanceId: string,
  preserve: boolean,
): (PortDeleted | PortUpdated)[] {
  const port = isLive(state) ? state.ports.get(portId) : undefined;
  if (!port || port.deviceId !== instanceId) return [];
  if (!preserve) return [build(PortDeleted, { networkId: state.id, portId, projectId: port.projectId })];
  return [
    build(PortUpdated, {
      networkId: state.id,
      portId,
      projectId: port.projectId,
      deviceId: '',
      deviceOwner: '',
    }),
  ];
}
