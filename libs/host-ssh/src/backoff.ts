/**
 * How long the SSH session waits before its next connection attempt: exponential growth up to a cap,
 * with jitter so that many processes (or many hosts of one process) that lost their connections
 * together do not all come back in the same instant. Pure, with the random source passed in, so it
 * is testable.
 * Must never return a negative delay or one above the cap.
 */

export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** No delay exceeds this. */
  readonly maxMs: number;
  /** Growth per consecutive failure (2 doubles). */
  readonly multiplier: number;
  /** The share of each delay that is randomised, from 0 (none) to 1 (anything from 0 to the full delay). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 30_000, multiplier: 2, jitter: 0.5 };

/**
 * The delay after `failures` consecutive failed attempts (1 for the first failure): the capped
 * exponential delay, less a random part of up to `jitter` of it.
 */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (failures < 1) return 0;
  const exponent = Math.min(failures - 1, 64); // beyond this the cap has long been reached
  const capped = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** exponent);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  const unit = Math.min(Math.max(random(), 0), 1);
  return Math.round(capped * (1 - jitter * unit));
}
