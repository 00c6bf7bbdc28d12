/**
 * The instance aggregate: a server's state as the fold of its `instance-<uuid>` stream, and the
 * decisions users' requests meet (boot, update, stop, start, reboot, delete), with Nova's vm_state /
 * task_state model and its rules for which action is allowed when.
 * Pure: plain data in, plain data out; no I/O, no clock (event time comes from the envelope).
 */
import {
  BootRequested,
  type BootServer,
  DeleteRequested,
  type InstanceEvent,
  NetworkInterfaceAttached,
  NetworkInterfaceDetached,
  type PowerState,
  RebootRequested,
  type RebootType,
  type FlavorSnapshot,
  type ImageSnapshot,
  type Plain,
  RebuildRequested,
  ResizeConfirmed,
  ResizeRequested,
  ResizeRevertRequested,
  SnapshotRequested,
  ServerAccessAddressesSet,
  ServerLocked,
  ServerMetadataChanged,
  ServerUnlocked,
  ServerUpdated,
  StartRequested,
  StopRequested,
  build,
  isKnownEvent,
  type DecodedEvent,
} from '#libs/contracts';

import { ConflictingState, DomainError, InstanceNotFound } from './errors.js';

/** Nova's vm_state: where the server is at rest. */
export type VmState = 'building' | 'active' | 'stopped' | 'resized' | 'error' | 'deleted';

/** Nova's task_state: what is being done to it right now. */
export type TaskState =
  | 'scheduling'
  | 'spawning'
  | 'powering-off'
  | 'powering-on'
  | 'rebooting'
  | 'rebooting_hard'
  | 'rebuilding'
  | 'image_snapshot'
  | 'resize_prep'
  | 'resize_migrating'
  | 'resize_reverting'
  | 'deleting'
  | null;

/** The `status` the compute API shows, derived from vm_state and task_state as Nova derives it. */
export type ServerStatus =
  | 'BUILD'
  | 'ACTIVE'
  | 'SHUTOFF'
  | 'REBOOT'
  | 'HARD_REBOOT'
  | 'REBUILD'
  | 'RESIZE'
  | 'VERIFY_RESIZE'
  | 'REVERT_RESIZE'
  | 'ERROR'
  | 'DELETED';

export interface InstanceFault {
  readonly code: number;
  readonly message: string;
  readonly details?: string;
  readonly created: string;
}

/** One entry of `os-instance-actions`: a user request and how it went. */
export interface InstanceAction {
  readonly action:
    | 'create'
    | 'stop'
    | 'start'
    | 'reboot'
    | 'rebuild'
    | 'createImage'
    | 'resize'
    | 'confirmResize'
    | 'revertResize'
    | 'attach_interface'
    | 'detach_interface'
    | 'delete';
  readonly requestId: string;
  readonly userId: string;
  readonly projectId: string | null;
  readonly startTime: string;
  readonly finishTime: string | null;
  readonly result: 'Success' | 'Error' | null;
}

/** One NIC of a server: the port it is, on which network, and its addresses there. */
export interface NetworkInterface {
  readonly portId: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly fixedIps: readonly { readonly subnetId: string; readonly ipAddress: string }[];
  readonly preserveOnDelete: boolean;
}

export interface InstanceState {
  readonly exists: boolean;
  readonly id: string;
  readonly boot: BootRequested | null;
  /** The display name: BootRequested's, then the latest ServerUpdated's. */
  readonly name: string;
  /** Nova's `description` (microversion 2.19); null when never set or cleared. */
  readonly description: string | null;
  /** The flavor the server has: BootRequested's, then a confirmed resize's (or, while one waits, the new one). */
  readonly flavor: FlavorSnapshot | null;
  /**
   * A resize under way or waiting to be confirmed: the flavors it goes from and to, and whether the
   * server was running (it ends as it began, running or off).
   */
  readonly resize: {
    readonly from: FlavorSnapshot;
    readonly to: FlavorSnapshot;
    readonly wasRunning: boolean;
  } | null;
  /** The image the root disk was made from: BootRequested's, then the latest RebuildRequested's. */
  readonly image: ImageSnapshot | null;
  /** The server's metadata: BootRequested's, then the latest ServerMetadataChanged's. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly accessIPv4: string | null;
  readonly accessIPv6: string | null;
  /** The server's NICs: each a port of a network, with its MAC and fixed addresses, in attach order. */
  readonly interfaces: readonly NetworkInterface[];
  /** The image a snapshot under way fills (task state image_snapshot); null otherwise. */
  readonly snapshotImageId: string | null;
  /** Set while the server is locked: who may unlock it, and why it was locked. */
  readonly lock: { readonly byAdmin: boolean; readonly reason: string | null } | null;
  readonly vmState: VmState;
  readonly taskState: TaskState;
  readonly powerState: PowerState;
  /** The host the instance is on, or is being built on. */
  readonly host: string | null;
  /** Scheduling attempt of the current build (1-based); 0 before the first. */
  readonly attempt: number;
  readonly alternates: readonly string[];
  /** Hosts a build already failed on, so a reschedule does not pick them again. */
  readonly failedHosts: readonly string[];
  /** Why the last build failed where another host cannot help (DomainStartFailed.retryable false). */
  readonly buildAborted?: string | null;
  readonly fault: InstanceFault | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly launchedAt: string | null;
  readonly terminatedAt: string | null;
  readonly rebootType: RebootType | null;
  /** Console tokens issued for this instance (by hash) and when they expire. */
  readonly consoleTokens: readonly { readonly tokenHash: string; readonly expiresAt: string }[];
  readonly actions: readonly InstanceAction[];
}

export const initialInstance = (): InstanceState => ({
  exists: false,
  id: '',
  boot: null,
  name: '',
  description: null,
  flavor: null,
  resize: null,
  image: null,
  metadata: {},
  accessIPv4: null,
  accessIPv6: null,
  interfaces: [],
  snapshotImageId: null,
  lock: null,
  vmState: 'building',
  taskState: null,
  powerState: 'nostate',
  host: null,
  attempt: 0,
  alternates: [],
  failedHosts: [],
  fault: null,
  createdAt: null,
  updatedAt: null,
  launchedAt: null,
  terminatedAt: null,
  rebootType: null,
  consoleTokens: [],
  actions: [],
});

export function serverStatus(state: InstanceState): ServerStatus {
  switch (state.vmState) {
    case 'building':
      return 'BUILD';
    case 'error':
      return 'ERROR';
    case 'deleted':
      return 'DELETED';
    case 'resized':
      return state.taskState === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case 'stopped':
      if (state.taskState === 'resize_prep' || state.taskState === 'resize_migrating') return 'RESIZE';
      return state.taskState === 'rebuilding' ? 'REBUILD' : 'SHUTOFF';
    case 'active':
      if (state.taskState === 'resize_prep' || state.taskState === 'resize_migrating') return 'RESIZE';
      if (state.taskState === 'rebuilding') return 'REBUILD';
      if (state.taskState === 'rebooting') return 'REBOOT';
      if (state.taskState === 'rebooting_hard') return 'HARD_REBOOT';
      return 'ACTIVE';
  }
}

/** Nova shows `OS-EXT-STS:power_state` as a number. */
export const POWER_STATE_CODES: Readonly<Record<PowerState, number>> = {
  nostate: 0,
  running: 1,
  paused: 3,
  shutdown: 4,
  shutoff: 4,
  crashed: 6,
  suspended: 7,
};

/** The actions with one more begun by `event`; one done in the same step (`finished`) ends there too. */
function startAction(
  state: InstanceState,
  action: InstanceAction['action'],
  event: DecodedEvent,
  finished: 'Success' | null = null,
): InstanceAction[] {
  const { metadata } = event;
  return [
    ...state.actions,
    {
      action,
      requestId: metadata.correlationId,
      userId: metadata.actor.userId,
      projectId: metadata.actor.projectId,
      startTime: metadata.occurredAt,
      finishTime: finished === null ? null : metadata.occurredAt,
      result: finished,
    },
  ];
}

/** Marks the newest unfinished action of that kind finished. */
function finishAction(
  state: InstanceState,
  action: InstanceAction['action'],
  at: string,
  result: 'Success' | 'Error',
): InstanceAction[] {
  const index = state.actions.findLastIndex((entry) => entry.action === action && entry.finishTime === null);
  if (index < 0) return [...state.actions];
  return state.actions.map((entry, position) =>
    position === index ? { ...entry, finishTime: at, result } : entry,
  );
}

/**
 * Results of work begun before a delete was asked for (a build that finished or failed, a stop, a
 * reboot): each records what happened, but the delete stays under way until DomainDeleted ends it.
 */
const RESULTS_A_DELETE_OUTLASTS: ReadonlySet<InstanceEvent['type']> = new Set([
  'HostSelected',
  'DomainStartFailed',
  'DomainStarted',
  'InstanceFailed',
  'DomainStopped',
  'DomainRebooted',
  'DomainRebuilt',
  'ResizeClaimed',
  'DomainResized',
  'ResizeFailed',
  'ResizeReverted',
  'SnapshotTaken',
  'SnapshotFailed',
] as const);

/** The action an InstanceFailed ends, by the task under way (a build's, when none is named). */
const FAILING_ACTIONS: Partial<Record<NonNullable<TaskState>, InstanceAction['action']>> = {
  rebuilding: 'rebuild',
  resize_reverting: 'revertResize',
};

/** `evolve`: the state after one more event. Unknown-to-this-stream events leave it unchanged. */
export function evolveInstance(state: InstanceState, event: DecodedEvent): InstanceState {
  if (!isKnownEvent(event)) return state;
  const known = event as InstanceEvent;
  const at = event.metadata.occurredAt;
  const applied = applyInstanceEvent(state, known, at);
  if (applied === state) return state;
  const stillDeleting = state.taskState === 'deleting' && RESULTS_A_DELETE_OUTLASTS.has(known.type);
  return { ...applied, ...(stillDeleting ? { taskState: 'deleting' as const } : {}), updatedAt: at };
}

function applyInstanceEvent(state: InstanceState, event: InstanceEvent, at: string): InstanceState {
  switch (event.type) {
    case 'BootRequested':
      return {
        ...initialInstance(),
        exists: true,
        id: event.data.instanceId,
        boot: event.data,
        name: event.data.name,
        flavor: event.data.flavor,
        image: event.data.image,
        metadata: event.data.metadata,
        vmState: 'building',
        taskState: 'scheduling',
        createdAt: at,
        actions: startAction(state, 'create', event),
      };
    case 'HostSelected':
      return {
        ...state,
        host: event.data.host,
        attempt: event.data.attempt,
        alternates: event.data.alternates,
        taskState: 'spawning',
      };
    case 'DomainStartFailed':
      return {
        ...state,
        host: null,
        failedHosts: [...state.failedHosts, event.data.host],
        buildAborted: event.data.retryable ? null : event.data.reason,
        taskState: 'scheduling',
      };
    case 'DomainStarted':
      if (event.data.reason === 'boot') {
        return {
          ...state,
          vmState: 'active',
          taskState: null,
          powerState: 'running',
          host: event.data.host,
          launchedAt: at,
          actions: finishAction(state, 'create', at, 'Success'),
        };
      }
      return {
        ...state,
        vmState: 'active',
        taskState: null,
        powerState: 'running',
        actions: finishAction(state, 'start', at, 'Success'),
      };
    case 'InstanceFailed':
      return {
        ...state,
        vmState: 'error',
        taskState: null,
        fault: {
          code: event.data.fault.code,
          message: event.data.fault.message,
          ...(event.data.fault.details === undefined ? {} : { details: event.data.fault.details }),
          created: at,
        },
        resize: null,
        // A build, a rebuild or a revert ends here: whichever is under way.
        actions: finishAction(state, FAILING_ACTIONS[state.taskState ?? 'spawning'] ?? 'create', at, 'Error'),
      };
    case 'StopRequested':
      return { ...state, taskState: 'powering-off', actions: startAction(state, 'stop', event) };
    case 'DomainStopped':
      return {
        ...state,
        vmState: 'stopped',
        powerState: 'shutoff',
        taskState: null,
        consoleTokens: [],
        actions: finishAction(state, 'stop', at, 'Success'),
      };
    case 'StartRequested':
      return { ...state, taskState: 'powering-on', actions: startAction(state, 'start', event) };
    case 'RebootRequested':
      return {
        ...state,
        taskState: event.data.type === 'HARD' ? 'rebooting_hard' : 'rebooting',
        rebootType: event.data.type,
        actions: startAction(state, 'reboot', event),
      };
    case 'DomainRebooted':
      return {
        ...state,
        vmState: 'active',
        powerState: 'running',
        taskState: null,
        rebootType: null,
        consoleTokens: [],
        actions: finishAction(state, 'reboot', at, 'Success'),
      };
    case 'RebuildRequested':
      return {
        ...state,
        image: event.data.image,
        taskState: 'rebuilding',
        actions: startAction(state, 'rebuild', event),
      };
    case 'DomainRebuilt':
      return {
        ...state,
        taskState: null,
        powerState: state.vmState === 'active' ? 'running' : 'shutoff',
        launchedAt: at,
        consoleTokens: [],
        actions: finishAction(state, 'rebuild', at, 'Success'),
      };
    case 'ResizeRequested':
      return {
        ...state,
        taskState: 'resize_prep',
        resize: state.flavor && {
          from: state.flavor,
          to: event.data.flavor,
          wasRunning: state.vmState === 'active',
        },
        actions: startAction(state, 'resize', event),
      };
    case 'ResizeClaimed':
      return { ...state, taskState: 'resize_migrating' };
    case 'DomainResized':
      return {
        ...state,
        vmState: 'resized',
        taskState: null,
        flavor: state.resize?.to ?? state.flavor,
        powerState: state.resize?.wasRunning ? 'running' : 'shutoff',
        consoleTokens: [],
        actions: finishAction(state, 'resize', at, 'Success'),
      };
    case 'ResizeFailed':
      return {
        ...state,
        taskState: null,
        resize: null,
        actions: finishAction(state, 'resize', at, 'Error'),
      };
    case 'ResizeConfirmed':
      // Nothing is left to do on the host: the confirm ends as it is asked.
      return {
        ...state,
        vmState: state.resize?.wasRunning === false ? 'stopped' : 'active',
        resize: null,
        actions: startAction(state, 'confirmResize', event, 'Success'),
      };
    case 'ResizeRevertRequested':
      return { ...state, taskState: 'resize_reverting', actions: startAction(state, 'revertResize', event) };
    case 'ResizeReverted':
      return {
        ...state,
        vmState: state.resize?.wasRunning === false ? 'stopped' : 'active',
        taskState: null,
        flavor: state.resize?.from ?? state.flavor,
        powerState: state.resize?.wasRunning === false ? 'shutoff' : 'running',
        resize: null,
        consoleTokens: [],
        actions: finishAction(state, 'revertResize', at, 'Success'),
      };
    case 'SnapshotRequested':
      return {
        ...state,
        taskState: 'image_snapshot',
        snapshotImageId: event.data.imageId,
        actions: startAction(state, 'createImage', event),
      };
    case 'SnapshotTaken':
    case 'SnapshotFailed':
      return {
        ...state,
        taskState: null,
        snapshotImageId: null,
        actions: finishAction(state, 'createImage', at, event.type === 'SnapshotTaken' ? 'Success' : 'Error'),
      };
    case 'DeleteRequested':
      return { ...state, taskState: 'deleting', actions: startAction(state, 'delete', event) };
    case 'DomainDeleted':
      return {
        ...state,
        vmState: 'deleted',
        taskState: null,
        powerState: 'nostate',
        host: null,
        terminatedAt: at,
        consoleTokens: [],
        actions: finishAction(state, 'delete', at, 'Success'),
      };
    case 'PowerStateChanged':
      return applyPowerSync(state, event.data.to, at);
    case 'ServerUpdated':
      return {
        ...state,
        name: event.data.name ?? state.name,
        description: event.data.description === undefined ? state.description : event.data.description,
      };
    case 'ServerMetadataChanged':
      return { ...state, metadata: event.data.metadata };
    case 'ServerAccessAddressesSet':
      return { ...state, accessIPv4: event.data.accessIPv4, accessIPv6: event.data.accessIPv6 };
    case 'NetworkInterfaceAttached': {
      const { instanceId: _id, ...nic } = event.data;
      const others = state.interfaces.filter((attached) => attached.portId !== nic.portId);
      // A boot's NICs come with its BootRequested; one attached later is an action of its own.
      const actions =
        state.vmState === 'building'
          ? state.actions
          : startAction(state, 'attach_interface', event, 'Success');
      return { ...state, interfaces: [...others, nic], actions };
    }
    case 'NetworkInterfaceDetached':
      return {
        ...state,
        interfaces: state.interfaces.filter((attached) => attached.portId !== event.data.portId),
        actions: startAction(state, 'detach_interface', event, 'Success'),
      };
    case 'ServerLocked':
      return { ...state, lock: { byAdmin: event.data.byAdmin, reason: event.data.reason } };
    case 'ServerUnlocked':
      return { ...state, lock: null };
    case 'ConsoleTokenIssued':
      return {
        ...state,
        consoleTokens: [
          ...state.consoleTokens,
          { tokenHash: event.data.tokenHash, expiresAt: event.data.expiresAt },
        ],
      };
  }
}

/**
 * What Nova's power-state sync does when the hypervisor disagrees with the database: a server the
 * store thinks is running but whose domain stopped or crashed becomes SHUTOFF; one whose domain
 * vanished becomes ERROR, since there is nothing left to start.
 */
function applyPowerSync(state: InstanceState, to: PowerState, at: string): InstanceState {
  const base = { ...state, powerState: to };
  if (state.vmState !== 'active' || state.taskState !== null) return base;
  if (to === 'nostate') {
    return {
      ...base,
      vmState: 'error',
      consoleTokens: [],
      fault: {
        code: 500,
        message: `The server's domain vanished from host ${state.host ?? 'unknown'}.`,
        created: at,
      },
    };
  }
  if (isDomainDown(to)) return { ...base, vmState: 'stopped', consoleTokens: [] };
  return base;
}

/**
 * Whether a domain in this power state has lost (or is losing) its QEMU process, and with it its VNC
 * server: its console tokens must end. A paused or suspended domain keeps both.
 */
export function isDomainDown(state: PowerState): boolean {
  return state === 'nostate' || state === 'shutoff' || state === 'shutdown' || state === 'crashed';
}

const describe = (state: InstanceState): string =>
  state.taskState !== null ? `task_state ${state.taskState}` : `vm_state ${state.vmState}`;

function mustExist(state: InstanceState, instanceId: string): void {
  if (!state.exists || state.vmState === 'deleted') throw new InstanceNotFound(instanceId);
}

function refuse(action: string, state: InstanceState): never {
  throw new ConflictingState(`Cannot '${action}' instance ${state.id} while it is in ${describe(state)}`);
}

/** `POST /servers`: the API chose the id; a second boot with the same id is a conflict, not a second server. */
export function decideBoot(state: InstanceState, command: BootServer): BootRequested[] {
  if (state.exists) throw new ConflictingState(`Instance ${command.instanceId} already exists.`);
  return [build(BootRequested, command)];
}

/** What `PUT /servers/{id}` may change; an absent field stays as it is, a null description clears it. */
export interface ServerChanges {
  readonly name?: string;
  readonly description?: string | null;
}

/**
 * Renaming or describing a server is allowed in any state but deleted, as in Nova. A request that changes
 * nothing appends nothing.
 */
export function decideUpdate(
  state: InstanceState,
  instanceId: string,
  changes: ServerChanges,
): ServerUpdated[] {
  mustExist(state, instanceId);
  const name = changes.name !== undefined && changes.name !== state.name ? changes.name : undefined;
  const description =
    changes.description !== undefined && changes.description !== state.description
      ? changes.description
      : undefined;
  if (name === undefined && description === undefined) return [];
  return [
    build(ServerUpdated, {
      instanceId,
      ...(name === undefined ? {} : { name }),
      ...(description === undefined ? {} : { description }),
    }),
  ];
}

/** Nova's InstanceIsLocked (409): a locked server takes no change but from an admin. */
export class InstanceLocked extends DomainError {
  override readonly name = 'InstanceLocked';
  readonly code = 'Conflict' as const;
  constructor(readonly instanceId: string) {
    super(`Instance ${instanceId} is locked`);
  }
}

/** Unlocking a server an admin locked takes an admin (Nova's unlock_override policy, 403). */
export class UnlockForbidden extends DomainError {
  override readonly name = 'UnlockForbidden';
  readonly code = 'Forbidden' as const;
  constructor() {
    super("Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
  }
}

/** Refuses a change to a locked server unless an admin asks for it. */
export function mustBeUnlocked(state: InstanceState, instanceId: string, asAdmin: boolean): void {
  mustExist(state, instanceId);
  if (state.lock !== null && !asAdmin) throw new InstanceLocked(instanceId);
}

/** Locking a locked server is nothing to do, as in Nova. */
export function decideLock(
  state: InstanceState,
  instanceId: string,
  byAdmin: boolean,
  reason: string | null,
): ServerLocked[] {
  mustExist(state, instanceId);
  if (state.lock !== null) return [];
  return [build(ServerLocked, { instanceId, byAdmin, reason })];
}

export function decideUnlock(state: InstanceState, instanceId: string, asAdmin: boolean): ServerUnlocked[] {
  mustExist(state, instanceId);
  if (state.lock === null) return [];
  if (state.lock.byAdmin && !asAdmin) throw new UnlockForbidden();
  return [build(ServerUnlocked, { instanceId })];
}

/** The server's metadata becomes `metadata` (the caller merged or replaced); nothing if it is so already. */
export function decideSetMetadata(
  state: InstanceState,
  instanceId: string,
  metadata: Readonly<Record<string, string>>,
): ServerMetadataChanged[] {
  mustExist(state, instanceId);
  if (sameEntries(state.metadata, metadata)) return [];
  return [build(ServerMetadataChanged, { instanceId, metadata })];
}

function sameEntries(
  left: Readonly<Record<string, string>>,
  right: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => right[key] === left[key]);
}

/** Sets the access addresses a request names (absent: unchanged, null: cleared); nothing if unchanged. */
export function decideSetAccessAddresses(
  state: InstanceState,
  instanceId: string,
  addresses: { readonly accessIPv4?: string | null; readonly accessIPv6?: string | null },
): ServerAccessAddressesSet[] {
  mustExist(state, instanceId);
  const accessIPv4 = addresses.accessIPv4 === undefined ? state.accessIPv4 : addresses.accessIPv4;
  const accessIPv6 = addresses.accessIPv6 === undefined ? state.accessIPv6 : addresses.accessIPv6;
  if (accessIPv4 === state.accessIPv4 && accessIPv6 === state.accessIPv6) return [];
  return [build(ServerAccessAddressesSet, { instanceId, accessIPv4, accessIPv6 })];
}

/** The states Nova attaches and detaches interfaces in: a server on a host with no task under way. */
const INTERFACE_STATES: ReadonlySet<VmState> = new Set(['active', 'stopped']);

/** Nova's 409 for an interface change while the server is building, busy or in error. */
export function mustAcceptInterfaceChange(
  state: InstanceState,
  instanceId: string,
  action: 'attach_interface' | 'detach_interface',
): void {
  mustExist(state, instanceId);
  if (!INTERFACE_STATES.has(state.vmState) || state.taskState !== null) refuse(action, state);
}

/** A NIC for a server that has settled on a host; a port already on it is nothing to do. */
export function decideAttachInterface(
  state: InstanceState,
  nic: Plain<NetworkInterfaceAttached>,
): NetworkInterfaceAttached[] {
  mustAcceptInterfaceChange(state, nic.instanceId, 'attach_interface');
  if (state.interfaces.some((attached) => attached.portId === nic.portId)) return [];
  return [build(NetworkInterfaceAttached, nic)];
}

/** Nova's PortNotFound (404) names a port the server does not have. */
export class InterfaceNotFound extends DomainError {
  override readonly name = 'InterfaceNotFound';
  readonly code = 'NotFound' as const;
  constructor(portId: string) {
    super(`Port ${portId} is not attached`);
  }
}

export function decideDetachInterface(
  state: InstanceState,
  instanceId: string,
  portId: string,
): NetworkInterfaceDetached[] {
  mustExist(state, instanceId);
  if (!state.interfaces.some((attached) => attached.portId === portId)) throw new InterfaceNotFound(portId);
  mustAcceptInterfaceChange(state, instanceId, 'detach_interface');
  return [build(NetworkInterfaceDetached, { instanceId, portId })];
}

export function decideStop(state: InstanceState, instanceId: string): StopRequested[] {
  mustExist(state, instanceId);
  if (state.vmState !== 'active' || state.taskState !== null) refuse('stop', state);
  return [build(StopRequested, { instanceId })];
}

export function decideStart(state: InstanceState, instanceId: string): StartRequested[] {
  mustExist(state, instanceId);
  if (state.vmState !== 'stopped' || state.taskState !== null) refuse('start', state);
  return [build(StartRequested, { instanceId })];
}

/** Soft reboots need a running server; a hard reboot also rescues a stopped or errored one on a host. */
export function decideReboot(state: InstanceState, instanceId: string, type: RebootType): RebootRequested[] {
  mustExist(state, instanceId);
  const allowed =
    type === 'SOFT'
      ? state.vmState === 'active' && state.taskState === null
      : ['active', 'stopped', 'error'].includes(state.vmState) &&
        state.host !== null &&
        (state.taskState === null || state.taskState === 'rebooting');
  if (!allowed) refuse('reboot', state);
  return [build(RebootRequested, { instanceId, type })];
}

/**
 * Rebuilding takes a server at rest, running or off (Nova also takes one in error; here an errored
 * server may have no domain to rebuild, so it is deleted and booted again instead).
 */
export function decideRebuild(
  state: InstanceState,
  instanceId: string,
  image: Plain<ImageSnapshot>,
): RebuildRequested[] {
  mustExist(state, instanceId);
  if (!['active', 'stopped'].includes(state.vmState) || state.taskState !== null || state.host === null)
    refuse('rebuild', state);
  return [build(RebuildRequested, { instanceId, image })];
}

/** Nova's ResizeError / CannotResizeToSameFlavor and friends: the request itself is wrong (400). */
export class ResizeRefused extends DomainError {
  override readonly name = 'ResizeRefused';
  readonly code = 'BadRequest' as const;
}

/**
 * A resize takes a server at rest, running or off, to another flavor on the same host. As in Nova the
 * flavor must differ, and the root disk cannot shrink (a flavor whose disk is 0 sizes it from the image,
 * so it cannot take a server whose disk was sized by its flavor).
 */
export function decideResize(
  state: InstanceState,
  instanceId: string,
  flavor: Plain<FlavorSnapshot>,
): ResizeRequested[] {
  mustExist(state, instanceId);
  if (!['active', 'stopped'].includes(state.vmState) || state.taskState !== null || state.host === null)
    refuse('resize', state);
  const current = state.flavor;
  if (current === null) refuse('resize', state);
  if (flavor.id === current.id) throw new ResizeRefused('When resizing, instances must change flavor!');
  if (flavor.diskGb === 0 && current.diskGb > 0)
    throw new ResizeRefused('Resize to zero disk flavor is not allowed.');
  if (flavor.diskGb < current.diskGb) throw new ResizeRefused('Unable to resize disk down.');
  return [build(ResizeRequested, { instanceId, flavor })];
}

/** Keeping the new flavor takes a server that waits for it (VERIFY_RESIZE). */
export function decideConfirmResize(state: InstanceState, instanceId: string): ResizeConfirmed[] {
  mustExist(state, instanceId);
  if (state.vmState !== 'resized' || state.taskState !== null) refuse('confirmResize', state);
  return [build(ResizeConfirmed, { instanceId })];
}

/** Going back to the old flavor takes a server that waits for the user's choice (VERIFY_RESIZE). */
export function decideRevertResize(state: InstanceState, instanceId: string): ResizeRevertRequested[] {
  mustExist(state, instanceId);
  if (state.vmState !== 'resized' || state.taskState !== null) refuse('revertResize', state);
  return [build(ResizeRevertRequested, { instanceId })];
}

/** An image of the disk is taken from a server at rest, running or off, as Nova takes it. */
export function decideSnapshot(
  state: InstanceState,
  instanceId: string,
  imageId: string,
): SnapshotRequested[] {
  mustExist(state, instanceId);
  if (!['active', 'stopped'].includes(state.vmState) || state.taskState !== null || state.host === null)
    refuse('createImage', state);
  return [build(SnapshotRequested, { instanceId, imageId })];
}

/** Deleting twice is not an error: the second request finds the first under way and adds nothing. */
export function decideDelete(state: InstanceState, instanceId: string): DeleteRequested[] {
  mustExist(state, instanceId);
  if (state.taskState === 'deleting') return [];
  return [build(DeleteRequested, { instanceId })];
}

export const instanceReducer = { initial: initialInstance, evolve: evolveInstance };
