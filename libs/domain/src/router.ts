/**
 * The router aggregate (Neutron's L3 model): a router as the fold of `router-<uuid>`, and the decisions
 * on it and on the ports it uses. A router's interfaces and its gateway port are ports on their
 * networks' streams, so those decisions take the network's state: an interface is a port holding its
 * subnet's gateway address, owned by `network:router_interface`; a gateway is a port on an external
 * network, owned by `network:router_gateway`. What spans streams (the subnets a router is already on,
 * the addresses of its ports) comes in from the caller's view.
 * Pure: no I/O, no clock, no randomness (ids and MAC addresses come in with the request).
 */
import {
  type DecodedEvent,
  type Plain,
  type PortCreated,
  PortDeleted,
  PortUpdated,
  RouterCreated,
  RouterDeleted,
  type RouterEvent,
  RouterGatewayCleared,
  RouterGatewaySet,
  RouterUpdated,
  build,
  isKnownEvent,
} from '#libs/contracts';

import {
  canonicalAddress,
  contains,
  formatPrefix,
  hostRange,
  overlaps,
  parsePrefix,
  toBigInt,
} from './ip-ranges.js';
import {
  FLOATING_IP_OWNER,
  NetworkError,
  type NetworkState,
  ROUTER_GATEWAY_OWNER,
  ROUTER_INTERFACE_OWNER,
  type PortState,
  type SubnetState,
  decideCreatePort,
  networkNotFound,
  portNotFound,
  subnetOf,
  isLive,
} from './network.js';

/** Neutron's default `max_routes`. */
export const MAX_ROUTES = 30;

export interface RouterRoute {
  readonly destination: string;
  readonly nexthop: string;
}

export interface RouterGateway {
  readonly networkId: string;
  readonly portId: string;
  readonly enableSnat: boolean;
}

export interface RouterState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly adminStateUp: boolean;
  readonly routes: readonly RouterRoute[];
  readonly gateway: RouterGateway | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export const initialRouter = (): RouterState => ({
  exists: false,
  deleted: false,
  id: '',
  projectId: '',
  name: '',
  description: '',
  adminStateUp: true,
  routes: [],
  gateway: null,
  createdAt: null,
  updatedAt: null,
});

export const routerNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'RouterNotFound', `Router ${id} could not be found`);

const badRouterRequest = (reason: string): NetworkError =>
  new NetworkError('BadRequest', 'BadRequest', `Bad router request: ${reason}.`);

export function evolveRouter(state: RouterState, event: DecodedEvent): RouterState {
  if (!isKnownEvent(event)) return state;
  const at = event.metadata.occurredAt;
  const known = event as RouterEvent;
  switch (known.type) {
    case 'RouterCreated': {
      const { routerId, projectId, name, description, adminStateUp } = known.data;
      return {
        ...initialRouter(),
        exists: true,
        id: routerId,
        projectId,
        name,
        description,
        adminStateUp,
        createdAt: at,
        updatedAt: at,
      };
    }
    case 'RouterUpdated': {
      const { name, description, adminStateUp, routes } = known.data;
      return {
        ...state,
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
        ...(adminStateUp === undefined ? {} : { adminStateUp }),
        ...(routes === undefined
          ? {}
          : { routes: routes.map(({ destination, nexthop }) => ({ destination, nexthop })) }),
        updatedAt: at,
      };
    }
    case 'RouterGatewaySet': {
      const { networkId, portId, enableSnat } = known.data;
      return { ...state, gateway: { networkId, portId, enableSnat }, updatedAt: at };
    }
    case 'RouterGatewayCleared':
      return { ...state, gateway: null, updatedAt: at };
    case 'RouterDeleted':
      return { ...state, deleted: true, updatedAt: at };
  }
  return state;
}

export const routerReducer = { initial: initialRouter, evolve: evolveRouter };

/** A subnet a router has a port on, as the caller's view of the networks gives it. */
export interface AttachedSubnet {
  readonly subnetId: string;
  readonly cidr: string;
  /** The router's own address on it. */
  readonly ipAddress: string;
}

export interface GatewayRequest {
  readonly networkId: string;
  readonly portId: string;
  readonly enableSnat: boolean;
}

export function decideCreateRouter(
  state: RouterState,
  router: Plain<RouterCreated>,
  gateway: GatewayRequest | null,
): (RouterCreated | RouterGatewaySet)[] {
  if (state.exists) {
    throw new NetworkError('Conflict', 'RouterExists', `Router ${router.routerId} already exists.`);
  }
  return [
    build(RouterCreated, router),
    ...(gateway ? [build(RouterGatewaySet, { routerId: router.routerId, ...gateway })] : []),
  ];
}

export type RouterChanges = Omit<Plain<RouterUpdated>, 'routerId'>;

/** A route's destination and next hop as Neutron keeps them, or its 400 when it is malformed. */
function checkedRoute(route: RouterRoute): RouterRoute {
  const parsed = parsePrefix(route.destination);
  if (!('prefix' in parsed)) {
    throw new NetworkError(
      'BadRequest',
      'InvalidInput',
      `Invalid input for routes: '${route.destination}' is not a valid IP subnet.`,
    );
  }
  const nexthop = canonicalAddress(route.nexthop);
  if (nexthop === null || (nexthop.includes(':') ? 6 : 4) !== parsed.prefix.version) {
    throw new NetworkError(
      'BadRequest',
      'InvalidInput',
      `Invalid input for routes: '${route.nexthop}' is not a valid next hop for ${route.destination}.`,
    );
  }
  return { destination: formatPrefix(parsed.prefix), nexthop };
}

/**
 * An update: routes are replaced whole, each next hop on a subnet the router is on (`attached`) and
 * not one of the router's own addresses, at most MAX_ROUTES of them.
 */
export function decideUpdateRouter(
  state: RouterState,
  changes: RouterChanges,
  attached: readonly AttachedSubnet[],
): RouterUpdated[] {
  if (!isLive(state)) throw routerNotFound(state.id);
  let routes: RouterRoute[] | undefined;
  if (changes.routes !== undefined) {
    if (changes.routes.length > MAX_ROUTES) {
      throw new NetworkError(
        'BadRequest',
        'RoutesExhausted',
        `Unable to complete operation for ${state.id}. The number of routes exceeds the maximum ${MAX_ROUTES}.`,
      );
    }
    routes = changes.routes.map(checkedRoute);
    for (const route of routes) {
      const hop = toBigInt(route.nexthop);
      const invalid = (why: string): NetworkError =>
        new NetworkError(
          'BadRequest',
          'InvalidRoutes',
          `Invalid format for routes: ${JSON.stringify(route)}, ${why}`,
        );
      if (attached.some((subnet) => subnet.ipAddress === route.nexthop)) {
        throw invalid('the nexthop is used by router');
      }
      const connected = attached.some((subnet) => {
        const parsed = parsePrefix(subnet.cidr);
        return 'prefix' in parsed && contains(hostRange(parsed.prefix), hop);
      });
      if (!connected) throw invalid('the nexthop is not connected with router');
    }
  }
  const wanted: Record<string, unknown> = { ...changes, ...(routes === undefined ? {} : { routes }) };
  const changed = Object.entries(wanted).filter(
    ([key, value]) =>
      value !== undefined && JSON.stringify(state[key as keyof RouterState]) !== JSON.stringify(value),
  );
  if (changed.length === 0) return [];
  return [build(RouterUpdated, { routerId: state.id, ...Object.fromEntries(changed) })];
}

/** A gateway where there is none; on the port it already has, a change of SNAT only. */
export function decideSetGateway(state: RouterState, gateway: GatewayRequest): RouterGatewaySet[] {
  if (!isLive(state)) throw routerNotFound(state.id);
  const current = state.gateway;
  if (current !== null && current.portId === gateway.portId && current.networkId === gateway.networkId) {
    // The same port: only SNAT can change.
    return current.enableSnat === gateway.enableSnat
      ? []
      : [build(RouterGatewaySet, { routerId: state.id, ...gateway })];
  }
  if (current !== null) {
    throw new NetworkError(
      'Conflict',
      'RouterGatewayInUse',
      `Router ${state.id} already has a gateway on network ${current.networkId}.`,
    );
  }
  return [build(RouterGatewaySet, { routerId: state.id, ...gateway })];
}

export function decideClearGateway(state: RouterState): RouterGatewayCleared[] {
  if (!isLive(state)) throw routerNotFound(state.id);
  return state.gateway === null ? [] : [build(RouterGatewayCleared, { routerId: state.id })];
}

/** Neutron keeps a router with interfaces: they must be removed first (RouterInUse, 409). */
export function decideDeleteRouter(state: RouterState, interfaces: number): RouterDeleted[] {
  if (!isLive(state)) throw routerNotFound(state.id);
  if (interfaces > 0) {
    throw new NetworkError(
      'Conflict',
      'RouterInUse',
      `Router ${state.id} still has ports. It has ${interfaces} interface(s).`,
    );
  }
  return [build(RouterDeleted, { routerId: state.id })];
}

/** Neutron's refusal to remove an interface whose subnet an extra route goes through. */
export function checkInterfaceRemovable(state: RouterState, subnet: { id: string; cidr: string }): void {
  const parsed = parsePrefix(subnet.cidr);
  if (!('prefix' in parsed)) return;
  const range = hostRange(parsed.prefix);
  const used = state.routes.find(
    (route) =>
      route.nexthop.includes(':') === subnet.cidr.includes(':') && contains(range, toBigInt(route.nexthop)),
  );
  if (used) {
    throw new NetworkError(
      'Conflict',
      'RouterInterfaceInUseByRoute',
      `Router interface for subnet ${subnet.id} on router ${state.id} cannot be deleted, as it is required by one or more routes.`,
    );
  }
}

/** Neutron's refusal of a subnet that overlaps one the router is already on. */
function checkNoOverlap(routerId: string, subnet: SubnetState, attached: readonly AttachedSubnet[]): void {
  const parsed = parsePrefix(subnet.cidr);
  if (!('prefix' in parsed)) return;
  const range = hostRange(parsed.prefix);
  for (const other of attached) {
    if (other.subnetId === subnet.id) {
      throw badRouterRequest(`Router already has a port on subnet ${subnet.id}`);
    }
    const otherParsed = parsePrefix(other.cidr);
    if ('prefix' in otherParsed && otherParsed.prefix.version === parsed.prefix.version) {
      if (overlaps(range, hostRange(otherParsed.prefix))) {
        throw badRouterRequest(
          `Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${other.cidr} of subnet ${other.subnetId}`,
        );
      }
    }
  }
}

export interface InterfaceRequest {
  readonly routerId: string;
  readonly subnetId: string;
  readonly portId: string;
  readonly macAddress: string;
  /** The router's project, which owns the interface port. */
  readonly projectId: string;
}

/** An interface by subnet: a new port on the subnet's network holding the subnet's gateway address. */
export function decideAddRouterInterface(
  state: NetworkState,
  request: InterfaceRequest,
  attached: readonly AttachedSubnet[],
): PortCreated[] {
  const subnet = subnetOf(state, request.subnetId);
  if (subnet.gatewayIp === null) {
    throw badRouterRequest(`Subnet for router interface must have a gateway IP`);
  }
  checkNoOverlap(request.routerId, subnet, attached);
  return decideCreatePort(state, {
    portId: request.portId,
    projectId: request.projectId,
    name: '',
    description: '',
    macAddress: request.macAddress,
    fixedIps: [{ subnetId: subnet.id, ipAddress: subnet.gatewayIp }],
    deviceId: request.routerId,
    deviceOwner: ROUTER_INTERFACE_OWNER,
    adminStateUp: true,
    securityGroupIds: [],
  });
}

/** An interface by port: a free port with one address becomes the router's. */
export function decideAttachRouterPort(
  state: NetworkState,
  routerId: string,
  portId: string,
  attached: readonly AttachedSubnet[],
): PortUpdated[] {
  const port = state.ports.get(portId);
  if (!isLive(state) || !port) throw portNotFound(portId);
  if (port.deviceId !== '') {
    throw new NetworkError(
      'Conflict',
      'PortInUse',
      `Unable to complete operation on port ${portId} for network ${state.id}. Port already has an attached device ${port.deviceId}.`,
    );
  }
  const [first, ...others] = port.fixedIps;
  if (first === undefined) {
    throw badRouterRequest(`Router port must have at least one fixed IP`);
  }
  if (others.length > 0) {
    throw badRouterRequest(`Cannot have multiple IPv4 subnets on router port`);
  }
  checkNoOverlap(routerId, subnetOf(state, first.subnetId), attached);
  return [
    build(PortUpdated, {
      networkId: state.id,
      portId,
      projectId: port.projectId,
      deviceId: routerId,
      deviceOwner: ROUTER_INTERFACE_OWNER,
    }),
  ];
}

/** The router's interface port on this network for the subnet or the port named; Neutron's 404 if none. */
export function routerInterfaceOf(
  state: NetworkState,
  routerId: string,
  by: { readonly subnetId: string } | { readonly portId: string },
): PortState {
  const ports = isLive(state) ? [...state.ports.values()] : [];
  const found = ports.find(
    (port) =>
      port.deviceId === routerId &&
      port.deviceOwner === ROUTER_INTERFACE_OWNER &&
      ('portId' in by ? port.id === by.portId : port.fixedIps.some((ip) => ip.subnetId === by.subnetId)),
  );
  if (found) return found;
  throw 'portId' in by
    ? new NetworkError(
        'NotFound',
        'RouterInterfaceNotFound',
        `Router ${routerId} does not have an interface with id ${by.portId}`,
      )
    : new NetworkError(
        'NotFound',
        'RouterInterfaceNotFoundForSubnet',
        `Router ${routerId} has no interface on subnet ${by.subnetId}`,
      );
}

/** Removing an interface deletes its port, whether the router made it or was given it (as Neutron does). */
export function decideRemoveRouterInterface(
  state: NetworkState,
  routerId: string,
  by: { readonly subnetId: string } | { readonly portId: string },
): PortDeleted[] {
  const port = routerInterfaceOf(state, routerId, by);
  return [build(PortDeleted, { networkId: state.id, portId: port.id, projectId: port.projectId })];
}

export interface GatewayPortRequest {
  readonly routerId: string;
  readonly portId: string;
  readonly macAddress: string;
  readonly projectId: string;
  /** An admin's choice of addresses on the external network; undefined: one from its subnets. */
  readonly fixedIps?: readonly { readonly subnetId?: string; readonly ipAddress?: string }[];
}

/** The gateway's port on an external network, with an address from its subnets. */
export function decideCreateGatewayPort(state: NetworkState, request: GatewayPortRequest): PortCreated[] {
  if (!isLive(state)) throw networkNotFound(state.id);
  if (!state.external) {
    throw badRouterRequest(`Network ${state.id} is not an external network`);
  }
  if (state.subnets.length === 0) {
    throw badRouterRequest(`No subnets defined on network ${state.id}`);
  }
  return decideCreatePort(state, {
    portId: request.portId,
    projectId: request.projectId,
    name: '',
    description: '',
    macAddress: request.macAddress,
    ...(request.fixedIps === undefined ? {} : { fixedIps: request.fixedIps }),
    deviceId: request.routerId,
    deviceOwner: ROUTER_GATEWAY_OWNER,
    adminStateUp: true,
    securityGroupIds: [],
  });
}

/** Deletes a router's gateway port if it is still there (a retry finds nothing to do). */
export function decideDeleteGatewayPort(
  state: NetworkState,
  routerId: string,
  portId: string,
): PortDeleted[] {
  const port = isLive(state) ? state.ports.get(portId) : undefined;
  if (!port || port.deviceId !== routerId || port.deviceOwner !== ROUTER_GATEWAY_OWNER) return [];
  return [build(PortDeleted, { networkId: state.id, portId, projectId: port.projectId })];
}

/** Neutron keeps router and floating IP ports from the port API: they go with what owns them. */
export function checkPortDeletable(port: PortState): void {
  if ([ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER, FLOATING_IP_OWNER].includes(port.deviceOwner)) {
    throw new NetworkError(
      'Conflict',
      'ServicePortInUse',
      `Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.deviceOwner}.`,
    );
  }
}
