/**
 * What a chaos run prints: the fault history, the operation history, each violation with the
 * events behind it, how to reproduce the run, and as the very last line one JSON object with the
 * run's figures. Pure: it formats what it is given.
 */
import type { OperationRecord, Violation } from './checker.js';
import type { ChaosOptions } from './cli.js';
import type { FaultRecord } from './faults.js';

export interface RunOutcome {
  readonly options: ChaosOptions;
  readonly faults: readonly FaultRecord[];
  readonly operations: readonly OperationRecord[];
  readonly violations: readonly Violation[];
  /** How long after the last heal the checker was satisfied, or null when it never was. */
  readonly settledAfterMs: number | null;
  /** Stopped by a signal before its last round: nothing was checked. */
  readonly interrupted: boolean;
  readonly durationMs: number;
}

export interface Summary {
  readonly seed: number;
  readonly rounds: number;
  readonly operations: number;
  readonly faults: number;
  /** null when the run was interrupted and nothing was checked. */
  readonly violations: number | null;
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)}s`;

export function summary(outcome: RunOutcome): Summary {
  return {
    seed: outcome.options.seed,
    // The rounds played: fewer than asked for when the run was interrupted.
    rounds: new Set(outcome.faults.map((fault) => fault.round)).size,
    operations: outcome.operations.length,
    faults: outcome.faults.length,
    violations: outcome.interrupted ? null : outcome.violations.length,
  };
}

export function reproduce(options: ChaosOptions): string {
  return `npm run chaos -- --seed ${options.seed} --rounds ${options.rounds} --hosts ${options.hosts}`;
}

export function formatReport(outcome: RunOutcome): string[] {
  const { options } = outcome;
  const lines: string[] = [];
  lines.push(
    `Chaos run: seed ${options.seed}, ${options.rounds} rounds, ${options.hosts} host(s), ${seconds(outcome.durationMs)}`,
  );

  lines.push('', 'Faults (round, began, fault, target, what was done, healed):');
  for (const fault of outcome.faults) {
    const healed = fault.healedAtMs === null ? `NOT HEALED: ${fault.error ?? ''}` : seconds(fault.healedAtMs);
    lines.push(
      `  ${String(fault.round).padStart(3)}  ${seconds(fault.atMs).padStart(7)}  ${fault.kind.padEnd(9)}  ` +
        `${fault.target.padEnd(13)}  ${fault.detail.padEnd(40)}  ${healed}`,
    );
  }

  lines.push('', 'Operations (#, round, issued, took, request, status, server):');
  for (const operation of outcome.operations) {
    const status =
      operation.status === 0 ? `no reply (${operation.error ?? 'unknown'})` : String(operation.status);
    lines.push(
      `  ${String(operation.seq).padStart(4)}  ${String(operation.round).padStart(3)}  ${seconds(operation.atMs).padStart(7)}  ` +
        `${(operation.repliedAtMs === null ? '-' : seconds(operation.repliedAtMs - operation.atMs)).padStart(6)}  ` +
        `${operation.kind.padEnd(7)}  ${`${operation.method} ${shortPath(operation.path)}`.padEnd(34)}  ${status.padEnd(4)}  ` +
        (operation.serverId ?? operation.serverName ?? ''),
    );
  }
  const byStatus = new Map<string, number>();
  for (const operation of outcome.operations) {
    const key = `${operation.kind} ${operation.status === 0 ? 'no reply' : operation.status}`;
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  lines.push(
    `  in all: ${[...byStatus]
      .sort()
      .map(([key, count]) => `${key} x${count}`)
      .join(', ')}`,
  );

  lines.push('');
  if (outcome.interrupted) {
    lines.push(
      `Interrupted after ${summary(outcome).rounds} of ${options.rounds} rounds: nothing was checked.`,
    );
  } else if (outcome.settledAfterMs !== null) {
    lines.push(
      `Settled ${seconds(outcome.settledAfterMs)} after the last fault healed: every invariant holds.`,
    );
  } else {
    lines.push(
      `Violations: ${outcome.violations.length}, still there ${options.settleSeconds}s after the last fault healed:`,
    );
    for (const violation of outcome.violations) {
      lines.push(`  [${violation.invariant}] ${violation.message}`);
      for (const event of violation.events) {
        const detail = event.detail === '' ? '' : ` (${event.detail})`;
        lines.push(`      ${event.stream}@${event.revision} ${event.type}${detail}`);
      }
    }
    lines.push(`Seed ${options.seed} reproduces this schedule: ${reproduce(options)}`);
  }
  lines.push(JSON.stringify(summary(outcome)));
  return lines;
}

/** Server ids shortened in the table; the full id is in the last column. */
function shortPath(path: string): string {
  return path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, (id) => `${id.slice(0, 8)}…`);
}
