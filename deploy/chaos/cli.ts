/**
 * The chaos run's command line: `--seed S --rounds N [--hosts H] [--settle-seconds T]`. Parsing
 * is pure, so bad input is refused, with a message that says what is allowed, before anything
 * is started.
 */
import { parseArgs } from 'node:util';

export interface ChaosOptions {
  readonly seed: number;
  readonly rounds: number;
  readonly hosts: number;
  /** How long the system has, after the last fault heals, to reach a state the checker accepts. */
  readonly settleSeconds: number;
}

export const USAGE =
  'usage: npm run chaos -- --seed <0-4294967295> --rounds <1-1000> [--hosts <1-16, default 3>] ' +
  '[--settle-seconds <10-3600, default 120>]';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseChaosArgs(args: readonly string[]): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        seed: { type: 'string' },
        rounds: { type: 'string' },
        hosts: { type: 'string' },
        'settle-seconds': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const whole = (name: string, min: number, max: number, fallback?: number): number => {
    const raw = values[name];
    if (raw === undefined) {
      if (fallback === undefined) throw new UsageError(`--${name} is required`);
      return fallback;
    }
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${String(raw)}'`);
    }
    return value;
  };
  return {
    seed: whole('seed', 0, 4_294_967_295),
    rounds: whole('rounds', 1, 1_000),
    hosts: whole('hosts', 1, 16, 3),
    settleSeconds: whole('settle-seconds', 10, 3_600, 120),
  };
}
