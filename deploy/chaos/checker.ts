/**
 * The chaos run's verdict: invariants over facts gathered once the faults have healed (the
 * workload's operation history, every instance, host and console stream, the domains virsh lists
 * on each host, and the servers as the API lists and shows them). Each invariant is a pure
 * function from those facts to the violations it finds, each violation naming the events behind
 * it. Streams are folded with the domain's own reducers: what the store says is the truth the
 * services' read models and the hosts must agree with.
 * Pure: no I/O, no clock (the time of the check is a fact).
 */
import type { DecodedEvent } from '#libs/contracts';
import {
  type InstanceState,
  checkConsole,
  consoleReducer,
  hostReducer,
  instanceReducer,
  serverStatus,
} from '#libs/domain';

import type { OperationKind } from './schedule.js';

/** One event as read back from the store, with its place there. */
export interface FactEvent extends DecodedEvent {
  readonly stream: string;
  readonly revision: number;
}

/** One request of the workload and what came back. */
export interface OperationRecord {
  /** Order of issue across the run, from 1. */
  readonly seq: number;
  readonly round: number;
  /** When it was issued, in ms from the start of the run. */
  readonly atMs: number;
  /** When its reply came (or the wait for one ended), in ms from the start of the run. */
  readonly repliedAtMs: number | null;
  readonly kind: OperationKind;
  readonly method: string;
  readonly path: string;
  /** The HTTP status; 0 when no reply came (refused connection or timeout): it may or may not have happened. */
  readonly status: number;
  /** The server it acted on, or the one a boot created (null for a boot with no reply). */
  readonly serverId: string | null;
  /** A boot's server name, unique in the run, so a boot with no reply can still be recognised in the store. */
  readonly serverName: string | null;
  /** `x-openstack-request-id`: the correlation id of what the request appended. */
  readonly requestId: string | null;
  /** A console reply's token, by its SHA-256 only. */
  readonly tokenHash: string | null;
  readonly error: string | null;
}

/** A server as the API's list or show renders it (the admin's view). */
export interface ApiServer {
  readonly id: string;
  readonly status: string;
  readonly host: string | null;
  readonly taskState: string | null;
  readonly vmState: string | null;
}

export interface Facts {
  readonly operations: readonly OperationRecord[];
  /** Every `instance-` stream, by instance id. */
  readonly instances: ReadonlyMap<string, readonly FactEvent[]>;
  /** Every `host-` stream, by host name. */
  readonly hosts: ReadonlyMap<string, readonly FactEvent[]>;
  /** Every `console-` stream, by stream name. */
  readonly consoles: ReadonlyMap<string, readonly FactEvent[]>;
  /** Every domain on every host, as virsh lists them (a domain's uuid is its instance's id). */
  readonly domains: readonly { readonly host: string; readonly instanceId: string }[];
  /** `GET /servers/detail?all_tenants=1`. */
  readonly apiList: readonly ApiServer[];
  /** `GET /servers/{id}` for every instance in the store; null for a 404. */
  readonly apiShow: ReadonlyMap<string, ApiServer | null>;
  /** When the facts were gathered (console tokens expire). */
  readonly checkedAt: Date;
}

export interface EventRef {
  readonly stream: string;
  readonly type: string;
  readonly revision: number;
  /** What of its data explains it: host, attempt, reason, fault. */
  readonly detail: string;
}

export interface Violation {
  readonly invariant: InvariantName;
  readonly message: string;
  /** The events that show it. */
  readonly events: readonly EventRef[];
}

export type InvariantName =
  'final-state' | 'boot-active' | 'one-domain' | 'no-orphans' | 'read-model' | 'acknowledged-append';

export type Invariant = (facts: Facts) => Violation[];

/** How many of a stream's events a violation shows: its first few and its newest. */
const FIRST_SHOWN = 4;
const NEWEST_SHOWN = 8;

const ref = (event: FactEvent): EventRef => ({
  stream: event.stream,
  type: event.type,
  revision: event.revision,
  detail: detailOf(event.data),
});

/** The fields of an event that say where and why, whatever its type. */
function detailOf(data: object): string {
  const { host, attempt, reason, to, fault } = data as {
    host?: unknown;
    attempt?: unknown;
    reason?: unknown;
    to?: unknown;
    fault?: { message?: unknown };
  };
  const parts = [
    typeof host === 'string' ? `host ${host}` : null,
    typeof attempt === 'number' ? `attempt ${attempt}` : null,
    typeof to === 'string' ? `to ${to}` : null,
    typeof reason === 'string' ? `reason: ${reason}` : null,
    typeof fault?.message === 'string' ? `fault: ${fault.message}` : null,
  ];
  return parts.filter((part) => part !== null).join(', ');
}

/** A stream's events, or of a long one its first few (the requests) and its newest (the outcome). */
function newest(events: readonly FactEvent[] | undefined): EventRef[] {
  const all = events ?? [];
  if (all.length <= FIRST_SHOWN + NEWEST_SHOWN) return all.map(ref);
  return [...all.slice(0, FIRST_SHOWN), ...all.slice(-NEWEST_SHOWN)].map(ref);
}

function fold<S>(
  reducer: { initial(): S; evolve(state: S, event: DecodedEvent): S },
  events: readonly FactEvent[],
): S {
  return events.reduce((state, event) => reducer.evolve(state, event), reducer.initial());
}

/** Every instance stream folded with the instance reducer. */
export function foldInstances(facts: Facts): Map<string, InstanceState> {
  return new Map([...facts.instances].map(([id, events]) => [id, fold(instanceReducer, events)]));
}

const isGone = (state: InstanceState | undefined): boolean =>
  state === undefined || !state.exists || state.vmState === 'deleted';

/** Every request the store accepted reached a final state: no server is left with a task under way. */
export const everyRequestReachedAFinalState: Invariant = (facts) => {
  const violations: Violation[] = [];
  for (const [id, state] of foldInstances(facts)) {
    if (state.exists && state.taskState !== null) {
      violations.push({
        invariant: 'final-state',
        message: `server ${id} is stuck in task_state ${state.taskState} (vm_state ${state.vmState})`,
        events: newest(facts.instances.get(id)),
      });
    }
  }
  return violations;
};

const ACCEPTED = new Set([200, 202, 204]);

/**
 * Every boot that happened and was not deleted ended ACTIVE (the workload never asks for more than
 * capacity allows), or SHUTOFF when the last power request the API accepted for it was a stop. A
 * request with no reply may or may not have happened, so after one either state is right.
 */
export const everyBootEndedActive: Invariant = (facts) => {
  const folded = foldInstances(facts);
  const byName = new Map<string, string>();
  for (const [id, state] of folded) if (state.boot) byName.set(state.boot.name, id);

  const violations: Violation[] = [];
  const judged = new Set<string>();
  for (const boot of facts.operations.filter((operation) => operation.kind === 'boot')) {
    const id = boot.serverId ?? (boot.serverName === null ? undefined : byName.get(boot.serverName));
    if (id === undefined || judged.has(id)) continue;
    if (boot.status !== 0 && !ACCEPTED.has(boot.status)) continue;
    judged.add(id);
    const later = facts.operations.filter(
      (operation) => operation.serverId === id && operation.seq > boot.seq,
    );
    if (later.some((operation) => operation.kind === 'delete')) continue;
    const state = folded.get(id);
    if (state === undefined) continue; // a boot with no reply that never reached the store
    const expected = expectedStatuses(later);
    const status = serverStatus(state);
    if (!expected.includes(status)) {
      const why = state.fault ? `: ${state.fault.message}` : '';
      violations.push({
        invariant: 'boot-active',
        message: `server ${id} ended ${status}${why}; expected ${expected.join(' or ')}`,
        events: newest(facts.instances.get(id)),
      });
    }
  }
  return violations;
};

/** What a server's requests after its boot leave it in. */
function expectedStatuses(requests: readonly OperationRecord[]): string[] {
  let expected: string[] = ['ACTIVE'];
  for (const request of requests) {
    const power =
      request.kind === 'stop'
        ? 'SHUTOFF'
        : request.kind === 'start' || request.kind === 'reboot'
          ? 'ACTIVE'
          : null;
    if (power === null) continue;
    if (ACCEPTED.has(request.status)) expected = [power];
    else if (request.status === 0 && !expected.includes(power)) expected = [...expected, power];
  }
  return expected;
}

/**
 * No server has two domains, on one host or across hosts; and every server at rest on a host
 * (ACTIVE or SHUTOFF) has its one domain there.
 */
export const noServerHasTwoDomains: Invariant = (facts) => {
  const hostsOf = new Map<string, string[]>();
  for (const { host, instanceId } of facts.domains) {
    hostsOf.set(instanceId, [...(hostsOf.get(instanceId) ?? []), host]);
  }
  const violations: Violation[] = [...hostsOf]
    .filter(([, hosts]) => hosts.length > 1)
    .map(([id, hosts]) => ({
      invariant: 'one-domain' as const,
      message: `server ${id} has ${hosts.length} domains, on ${hosts.join(', ')}`,
      events: newest(facts.instances.get(id)),
    }));
  for (const [id, state] of foldInstances(facts)) {
    const atRest = state.taskState === null && (state.vmState === 'active' || state.vmState === 'stopped');
    if (!atRest || state.host === null || (hostsOf.get(id) ?? []).includes(state.host)) continue;
    violations.push({
      invariant: 'one-domain',
      message: `server ${id} is ${serverStatus(state)} on ${state.host}, but has no domain there`,
      events: newest(facts.instances.get(id)),
    });
  }
  return violations;
};

/**
 * Nothing outlives its server: no domain and no claim for a server that is deleted, unknown, or
 * on another host; no console token still usable after its server lost the VNC server it was
 * issued for (the instance's fold no longer lists it) or was deleted.
 */
export const nothingOutlivesItsServer: Invariant = (facts) => {
  const folded = foldInstances(facts);
  const violations: Violation[] = [];
  const placement = (id: string): string => {
    const state = folded.get(id);
    if (isGone(state)) return state === undefined ? 'unknown to the store' : 'deleted';
    return state?.host === null ? 'on no host' : `on ${state?.host ?? ''}`;
  };
  const belongsOn = (id: string, host: string): boolean => {
    const state = folded.get(id);
    return !isGone(state) && state?.host === host;
  };

  for (const { host, instanceId } of facts.domains) {
    if (!belongsOn(instanceId, host)) {
      violations.push({
        invariant: 'no-orphans',
        message: `a domain of server ${instanceId} is on ${host}, but the server is ${placement(instanceId)}`,
        events: newest(facts.instances.get(instanceId)),
      });
    }
  }

  for (const [host, events] of facts.hosts) {
    const { allocations } = fold(hostReducer, events);
    for (const instanceId of Object.keys(allocations)) {
      if (belongsOn(instanceId, host)) continue;
      const claims = events.filter(
        (event) => (event.data as { instanceId?: string }).instanceId === instanceId,
      );
      violations.push({
        invariant: 'no-orphans',
        message: `host ${host} holds a claim for server ${instanceId}, but the server is ${placement(instanceId)}`,
        events: [...claims.map(ref), ...newest(facts.instances.get(instanceId))],
      });
    }
  }

  for (const events of facts.consoles.values()) {
    const consoleState = fold(consoleReducer, events);
    if (!checkConsole(consoleState, facts.checkedAt).ok) continue;
    const instanceEvents = facts.instances.get(consoleState.instanceId) ?? [];
    // A token authorised but never handed out (its agent died before ConsoleTokenIssued) opens nothing.
    const issued = instanceEvents.some(
      (event) =>
        event.type === 'ConsoleTokenIssued' &&
        (event.data as { tokenHash?: string }).tokenHash === consoleState.tokenHash,
    );
    if (!issued) continue;
    const state = folded.get(consoleState.instanceId);
    const stillListed = state?.consoleTokens.some((token) => token.tokenHash === consoleState.tokenHash);
    if (!isGone(state) && stillListed === true) continue;
    violations.push({
      invariant: 'no-orphans',
      message:
        `console token ${consoleState.tokenHash.slice(0, 8)} of server ${consoleState.instanceId} is still ` +
        `valid, but the server is ${isGone(state) ? placement(consoleState.instanceId) : 'no longer serving it (stopped, rebooted or gone)'}`,
      events: [...events.map(ref), ...newest(instanceEvents)],
    });
  }
  return violations;
};

/** The API's list and show agree with the fold of each instance stream, and list nothing else. */
export const readModelsEqualTheStore: Invariant = (facts) => {
  const folded = foldInstances(facts);
  const listed = new Map(facts.apiList.map((server) => [server.id, server]));
  const violations: Violation[] = [];
  const report = (id: string, message: string) =>
    violations.push({ invariant: 'read-model', message, events: newest(facts.instances.get(id)) });

  for (const [id, state] of folded) {
    if (!state.exists) continue;
    const shown = facts.apiShow.get(id);
    const entry = listed.get(id);
    if (state.vmState === 'deleted') {
      if (shown) report(id, `server ${id} is deleted in the store, but the API shows it ${shown.status}`);
      if (entry) report(id, `server ${id} is deleted in the store, but the API lists it ${entry.status}`);
      continue;
    }
    const expected: ApiServer = {
      id,
      status: serverStatus(state),
      host: state.host,
      taskState: state.taskState,
      vmState: state.vmState,
    };
    for (const [view, server] of [
      ['shows', shown],
      ['lists', entry],
    ] as const) {
      if (!server) {
        report(
          id,
          `the store folds server ${id} to ${describe(expected)}, but the API ${view} no such server`,
        );
      } else if (describe(server) !== describe(expected)) {
        report(
          id,
          `the store folds server ${id} to ${describe(expected)}, but the API ${view} ${describe(server)}`,
        );
      }
    }
  }
  for (const server of facts.apiList) {
    if (!folded.get(server.id)?.exists) {
      report(
        server.id,
        `the API lists server ${server.id} (${server.status}), which the store does not hold`,
      );
    }
  }
  return violations;
};

const describe = (server: ApiServer): string =>
  `${server.status} (vm_state ${server.vmState ?? 'none'}, task_state ${server.taskState ?? 'none'}, host ${server.host ?? 'none'})`;

/** What each kind of accepted request must have appended to its server's stream. */
const APPENDED: Readonly<Record<OperationKind, string>> = {
  boot: 'BootRequested',
  stop: 'StopRequested',
  start: 'StartRequested',
  reboot: 'RebootRequested',
  delete: 'DeleteRequested',
  console: 'ConsoleTokenIssued',
};

/**
 * Every append the API acknowledged is still in the store: each 202 or 204 has its event, with the
 * request's id as correlation id, in the server's stream; each console URL handed out has its token
 * recorded there. (A second delete is acknowledged without an append, so an earlier one will do.)
 */
export const everyAcknowledgedAppendIsStored: Invariant = (facts) => {
  const violations: Violation[] = [];
  for (const operation of facts.operations) {
    if (!ACCEPTED.has(operation.status) || operation.serverId === null) continue;
    const events = facts.instances.get(operation.serverId) ?? [];
    const type = APPENDED[operation.kind];
    const found = events.some((event) => {
      if (event.type !== type) return false;
      if (operation.kind === 'console')
        return (event.data as { tokenHash?: string }).tokenHash === operation.tokenHash;
      if (operation.kind === 'delete') return true;
      return event.metadata.correlationId === operation.requestId;
    });
    if (!found) {
      violations.push({
        invariant: 'acknowledged-append',
        message:
          `operation #${operation.seq} (${operation.method} ${operation.path}) was answered ${operation.status}, ` +
          `but instance-${operation.serverId} holds no ${type} from request ${operation.requestId ?? 'unknown'}`,
        events: newest(events),
      });
    }
  }
  return violations;
};

export const INVARIANTS: readonly Invariant[] = [
  everyRequestReachedAFinalState,
  everyBootEndedActive,
  noServerHasTwoDomains,
  nothingOutlivesItsServer,
  readModelsEqualTheStore,
  everyAcknowledgedAppendIsStored,
];

export function check(facts: Facts): Violation[] {
  return INVARIANTS.flatMap((invariant) => invariant(facts));
}
