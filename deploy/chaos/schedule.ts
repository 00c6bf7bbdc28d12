/**
 * The plan of a chaos run, drawn from the seeded PRNG before anything starts: for each round one
 * fault (what, on which part, when it begins and how long until it heals) and the workload's
 * operations issued during it (what, when, and which of the live servers, as a fraction of their
 * list). The same seed and round count always give the same plan. Which server a fraction lands on
 * is resolved while running, from the servers the run itself booted, so it can differ only where
 * the system answered differently.
 * Pure: no clock, no I/O.
 */
import { Prng } from './prng.js';

/**
 * The parts a fault can hit. The relay from the store to the bus runs inside the scheduler, so a
 * fault on the scheduler is one on the relay too.
 */
export const TARGETS = [
  'event-store',
  'nats',
  'api',
  'scheduler',
  'console-proxy',
  'compute',
  'sshd',
] as const;
export type Target = (typeof TARGETS)[number];

/** Parts that listen on a loopback port other parts connect to: the ones a partition can cut off. */
export const PARTITIONABLE: ReadonlySet<Target> = new Set([
  'event-store',
  'nats',
  'api',
  'console-proxy',
  'sshd',
]);

/**
 * kill: SIGKILL, down for the duration, then started again; terminate: SIGTERM (a graceful shutdown,
 * as `npm run down` asks), down for the duration once it has exited, then started again; pause:
 * SIGSTOP then SIGCONT; partition: TCP to its port dropped.
 */
export type FaultKind = 'kill' | 'terminate' | 'pause' | 'partition';

export interface Fault {
  readonly kind: FaultKind;
  readonly target: Target;
  /** When it begins, from the start of the round. */
  readonly atMs: number;
  /** How long until it heals (for a kill, how long the part stays down). */
  readonly durationMs: number;
}

export type OperationKind = 'boot' | 'stop' | 'start' | 'reboot' | 'delete' | 'console';

export interface PlannedOperation {
  readonly kind: OperationKind;
  /** When it is issued, from the start of the round. */
  readonly atMs: number;
  /** Which live server it acts on: this fraction of the way down their list (unused by a boot). */
  readonly pick: number;
  readonly rebootType: 'SOFT' | 'HARD';
}

export interface Round {
  /** 1-based. */
  readonly index: number;
  readonly fault: Fault;
  readonly operations: readonly PlannedOperation[];
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly rounds: number;
  /** Servers booted and not yet deleted never exceed this, so capacity always allows every boot. */
  readonly maxLiveServers: number;
}

/** Bounds on a round, in milliseconds: a round lasts a few seconds. */
export const LIMITS = {
  faultStartMs: [0, 500],
  faultMs: { kill: [500, 2_000], terminate: [500, 2_000], pause: [1_000, 3_000], partition: [1_000, 3_000] },
  operationsPerRound: [2, 4],
  operationWindowMs: [0, 3_000],
} as const;

const FAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  kill: 35,
  terminate: 15,
  pause: 25,
  partition: 25,
};
const OPERATION_WEIGHTS: Readonly<Record<OperationKind, number>> = {
  boot: 30,
  delete: 15,
  stop: 15,
  start: 15,
  reboot: 15,
  console: 10,
};

export function planSchedule(options: ScheduleOptions): Round[] {
  const prng = new Prng(options.seed);
  const rounds: Round[] = [];
  let targets: Target[] = [];
  let live = 0;
  for (let index = 1; index <= options.rounds; index += 1) {
    // Every part is hit once in each run of TARGETS.length rounds, in an order the seed shuffles.
    if (targets.length === 0) targets = shuffle(prng, TARGETS);
    const target = targets.shift() as Target;
    let kind = prng.weighted(FAULT_WEIGHTS);
    if (kind === 'partition' && !PARTITIONABLE.has(target)) kind = prng.next() < 0.5 ? 'kill' : 'pause';
    const [minMs, maxMs] = LIMITS.faultMs[kind];
    const fault: Fault = {
      kind,
      target,
      atMs: prng.int(...LIMITS.faultStartMs),
      durationMs: prng.int(minMs, maxMs),
    };

    const count = prng.int(...LIMITS.operationsPerRound);
    // Times first, so the cap on live servers is kept in the order the operations are issued.
    const times = Array.from({ length: count }, () => prng.int(...LIMITS.operationWindowMs)).sort(
      (a, b) => a - b,
    );
    const operations: PlannedOperation[] = [];
    for (const atMs of times) {
      let operation = prng.weighted(OPERATION_WEIGHTS);
      if (live === 0) operation = 'boot';
      else if (operation === 'boot' && live >= options.maxLiveServers) operation = 'delete';
      if (operation === 'boot') live += 1;
      if (operation === 'delete') live -= 1;
      operations.push({
        kind: operation,
        atMs,
        pick: prng.next(),
        rebootType: prng.next() < 0.5 ? 'SOFT' : 'HARD',
      });
    }
    rounds.push({ index, fault, operations });
  }
  return rounds;
}

/** Fisher-Yates with the run's PRNG. */
function shuffle<T>(prng: Prng, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = prng.int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
