/**
 * The one way tests wait: `eventually` polls a probe until it yields a value, and `sleep` pauses.
 * Every test tier and the benchmarks use these two; a timeout names what was awaited, so a failing
 * suite says which condition never came true. Never use `sleep` to wait for something that can be
 * observed: poll it with `eventually` instead.
 */

export interface EventuallyOptions {
  /** How long to keep polling before failing; 10 s unless told. */
  readonly timeoutMs?: number;
  /** The pause between two probes; 20 ms unless told. */
  readonly intervalMs?: number;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns something other than `undefined`, and returns that; fails with
 * "timed out after N ms waiting for <what>" once the deadline passes. A probe that throws fails
 * the wait at once: that is how a probe says the awaited thing can no longer happen.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: EventuallyOptions | number = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
