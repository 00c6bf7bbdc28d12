/**
 * The floating IP aggregate (Neutron's L3 model): a floating IP as the fold of `floatingip-<uuid>`, and
 * the decisions on it and on the port that holds its address on the external network. An association
 * names a port, one of its fixed IPv4 addresses and the router that reaches that address's subnet from
 * the floating IP's network; which router that is, and whether the address already has a floating IP,
 * come in from the caller's view of the routers and floating IPs.
 * An association whose port is gone, or no longer holds the address, reads as none (`liveAssociation`):
 * Neutron disassociates a floating IP when its port is deleted, and here that follows from the fold.
 * Pure: no I/O, no clock, no randomness (ids and MAC addresses come in with the request).
 */
import {
  type DecodedEvent,
  FloatingIpAssociated,
  FloatingIpCreated,
  FloatingIpDeleted,
  FloatingIpDisassociated,
  type FloatingIpEvent,
  FloatingIpUpdated,
  type Plain,
  type PortCreated,
  PortDeleted,
  build,
  isKnownEvent,
} from '#libs/contracts';

import {
  NetworkError,
  type NetworkState,
  FLOATING_IP_OWNER,
  type PortState,
  decideCreatePort,
  networkNotFound,
  isLive,
} from './network.js';

export interface FloatingIpAssociation {
  readonly portId: string;
  readonly fixedIpAddress: string;
  readonly routerId: string;
}

export interface FloatingIpState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly projectId: string;
  readonly floatingNetworkId: string;
  readonly addressPortId: string;
  readonly floatingIpAddress: string;
  readonly description: string;
  readonly association: FloatingIpAssociation | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export const initialFloatingIp = (): FloatingIpState => ({
  exists: false,
  deleted: false,
  id: '',
  projectId: '',
  floatingNetworkId: '',
  addressPortId: '',
  floatingIpAddress: '',
  description: '',
  association: null,
  createdAt: null,
  updatedAt: null,
});

export const floatingIpNotFound = (id: string): NetworkError =>
  new NetworkError('NotFound', 'FloatingIPNotFound', `Floating IP ${id} could not be found`);

const badFloatingIpRequest = (reason: string): NetworkError =>
  new NetworkError('BadRequest', 'BadRequest', `Bad floatingip request: ${reason}.`);

export function evolveFloatingIp(state: FloatingIpState, event: DecodedEvent): FloatingIpState {
  if (!isKnownEvent(event)) return state;
  const at = event.metadata.occurredAt;
  const known = event as FloatingIpEvent;
  switch (known.type) {
    case 'FloatingIpCreated': {
      const { floatingIpId, ...fields } = known.data;
      return {
        ...initialFloatingIp(),
        ...fields,
        exists: true,
        id: floatingIpId,
        createdAt: at,
        updatedAt: at,
      };
    }
    case 'FloatingIpUpdated': {
      const { description } = known.data;
      return { ...state, ...(description === undefined ? {} : { description }), updatedAt: at };
    }
    case 'FloatingIpAssociated': {
      const { portId, fixedIpAddress, routerId } = known.data;
      return { ...state, association: { portId, fixedIpAddress, routerId }, updatedAt: at };
    }
    case 'FloatingIpDisassociated':
      return { ...state, association: null, updatedAt: at };
    case 'FloatingIpDeleted':
      return { ...state, deleted: true, updatedAt: at };
  }
  return state;
}

export const floatingIpReducer = { initial: initialFloatingIp, evolve: evolveFloatingIp };

/** The association as it stands: none once its port is gone or no longer holds the address. */
export function liveAssociation(
  state: FloatingIpState,
  portOf: (portId: string) => PortState | undefined,
): FloatingIpAssociation | null {
  const association = state.association;
  if (association === null) return null;
  const port = portOf(association.portId);
  const holds = port?.fixedIps.some((ip) => ip.ipAddress === association.fixedIpAddress) ?? false;
  return holds ? association : null;
}

/** A router as the floating IP decisions need it: where its gateway is, and the subnets it is on. */
export interface RouterReach {
  readonly routerId: string;
  readonly gatewayNetworkId: string | null;
  readonly subnetIds: readonly string[];
}

/** Another floating IP's live association, for the already-associated check. */
export interface ExistingAssociation {
  readonly floatingIpId: string;
  readonly floatingNetworkId: string;
  readonly portId: string;
  readonly fixedIpAddress: string;
}

export interface AssociationRequest {
  readonly port: PortState;
  /** Undefined: the port's one IPv4 address. */
  readonly fixedIpAddress?: string;
}

/**
 * Which fixed IP of the port the floating IP leads to, and through which router: one with its gateway
 * on the floating IP's network and an interface on that address's subnet (Neutron's 404
 * ExternalGatewayForFloatingIPNotFound without one); and no other floating IP on that network leads
 * to the same address already (409 FloatingIPPortAlreadyAssociated).
 */
export function resolveAssociation(
  state: FloatingIpState,
  request: AssociationRequest,
  routers: readonly RouterReach[],
  others: readonly ExistingAssociation[],
): FloatingIpAssociation {
  const { port } = request;
  const v4 = port.fixedIps.filter((ip) => !ip.ipAddress.includes(':'));
  let fixed = v4[0];
  if (request.fixedIpAddress !== undefined) {
    fixed = port.fixedIps.find((ip) => ip.ipAddress === request.fixedIpAddress);
    if (!fixed) {
      throw badFloatingIpRequest(`Port ${port.id} does not have fixed ip ${request.fixedIpAddress}`);
    }
    if (fixed.ipAddress.includes(':')) {
      throw badFloatingIpRequest(`Cannot process floating IP association with ${fixed.ipAddress}: not IPv4`);
    }
  } else if (v4.length > 1) {
    throw badFloatingIpRequest(
      `Port ${port.id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP`,
    );
  }
  if (!fixed) {
    throw badFloatingIpRequest(`Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
  }
  const router = routers.find(
    (candidate) =>
      candidate.gatewayNetworkId === state.floatingNetworkId && candidate.subnetIds.includes(fixed.subnetId),
  );
  if (!router) {
    throw new NetworkError(
      'NotFound',
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${state.floatingNetworkId} is not reachable from subnet ${fixed.subnetId}. Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    );
  }
  const taken = others.find(
    (other) =>
      other.floatingIpId !== state.id &&
      other.floatingNetworkId === state.floatingNetworkId &&
      other.portId === port.id &&
      other.fixedIpAddress === fixed.ipAddress,
  );
  if (taken) {
    throw new NetworkError(
      'Conflict',
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${state.floatingIpAddress} (${state.id}) with port ${port.id} using fixed IP ${fixed.ipAddress}, as that fixed IP already has a floating IP on external network ${state.floatingNetworkId}.`,
    );
  }
  return { portId: port.id, fixedIpAddress: fixed.ipAddress, routerId: router.routerId };
}

export function decideCreateFloatingIp(
  state: FloatingIpState,
  floatingIp: Plain<FloatingIpCreated>,
  association: FloatingIpAssociation | null,
): (FloatingIpCreated | FloatingIpAssociated)[] {
  if (state.exists) {
    throw new NetworkError(
      'Conflict',
      'FloatingIPExists',
      `Floating IP ${floatingIp.floatingIpId} already exists.`,
    );
  }
  return [
    build(FloatingIpCreated, floatingIp),
    ...(association
      ? [build(FloatingIpAssociated, { floatingIpId: floatingIp.floatingIpId, ...association })]
      : []),
  ];
}

/** Points the floating IP at an address (again, or elsewhere); nothing if it already leads there. */
export function decideAssociateFloatingIp(
  state: FloatingIpState,
  association: FloatingIpAssociation,
): FloatingIpAssociated[] {
  if (!isLive(state)) throw floatingIpNotFound(state.id);
  if (JSON.stringify(state.association) === JSON.stringify(association)) return [];
  return [build(FloatingIpAssociated, { floatingIpId: state.id, ...association })];
}

export function decideUpdateFloatingIp(
  state: FloatingIpState,
  changes: { readonly description?: string },
): FloatingIpUpdated[] {
  if (!isLive(state)) throw floatingIpNotFound(state.id);
  if (changes.description === undefined || changes.description === state.description) return [];
  return [build(FloatingIpUpdated, { floatingIpId: state.id, description: changes.description })];
}

export function decideDisassociateFloatingIp(state: FloatingIpState): FloatingIpDisassociated[] {
  if (!isLive(state)) throw floatingIpNotFound(state.id);
  return state.association === null ? [] : [build(FloatingIpDisassociated, { floatingIpId: state.id })];
}

export function decideDeleteFloatingIp(state: FloatingIpState): FloatingIpDeleted[] {
  if (!isLive(state)) throw floatingIpNotFound(state.id);
  return [build(FloatingIpDeleted, { floatingIpId: state.id })];
}

export interface FloatingIpPortRequest {
  readonly floatingIpId: string;
  readonly portId: string;
  readonly macAddress: string;
  readonly projectId: string;
  readonly subnetId?: string;
  readonly floatingIpAddress?: string;
}

/** The port holding a floating IP's address, on an external network only. */
export function decideCreateFloatingIpPort(
  state: NetworkState,
  request: FloatingIpPortRequest,
): PortCreated[] {
  if (!isLive(state)) throw networkNotFound(state.id);
  if (!state.external) {
    throw badFloatingIpRequest(`Network ${state.id} is not a valid external network`);
  }
  const asked =
    request.subnetId === undefined && request.floatingIpAddress === undefined
      ? undefined
      : [
          {
            ...(request.subnetId === undefined ? {} : { subnetId: request.subnetId }),
            ...(request.floatingIpAddress === undefined ? {} : { ipAddress: request.floatingIpAddress }),
          },
        ];
  const firstV4 = state.subnets.find((subnet) => subnet.ipVersion === 4);
  if (asked === undefined && firstV4 === undefined) {
    throw badFloatingIpRequest(`Network ${state.id} does not contain any IPv4 subnet`);
  }
  return decideCreatePort(state, {
    portId: request.portId,
    projectId: request.projectId,
    name: '',
    description: '',
    macAddress: request.macAddress,
    // A floating IP is one IPv4 address: without a choice, from the first IPv4 subnet with room.
    fixedIps: asked ?? [{ subnetId: firstV4?.id ?? '' }],
    deviceId: request.floatingIpId,
    deviceOwner: FLOATING_IP_OWNER,
    adminStateUp: true,
    securityGroupIds: [],
  });
}

/** Deletes a floating IP's address port if it is still there (a retry finds nothing to do). */
export function decideDeleteFloatingIpPort(
  state: NetworkState,
  floatingIpId: string,
  portId: string,
): PortDeleted[] {
  const port = isLive(state) ? state.ports.get(portId) : undefined;
  if (!port || port.deviceId !== floatingIpId || port.deviceOwner !== FLOATING_IP_OWNER) return [];
  return [build(PortDeleted, { networkId: state.id, portId, projectId: port.projectId })];
}
