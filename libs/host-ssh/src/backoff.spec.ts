import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

const policy: BackoffPolicy = { initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0.5 };

describe(backoffDelay.name, () => {
  it('waits nothing before the first attempt', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(0);
  });

  it('doubles per consecutive failure up to the cap when jitter draws nothing', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('takes off at most the jitter share of the delay', () => {
    expect(backoffDelay(3, policy, () => 1)).toBe(200); // 400 less half of it
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    for (let n = 1; n < 40; n += 1) {
      const delay = backoffDelay(n, policy, Math.random);
      expect(delay).toBeGreaterThanOrEqual(Math.min(policy.maxMs, 100 * 2 ** (n - 1)) / 2);
      expect(delay).toBeLessThanOrEqual(policy.maxMs);
    }
  });

  it('stays finite and capped after any number of failures, and tolerates a bad random source', () => {
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(backoffDelay(2, policy, () => 7)).toBe(100);
    expect(backoffDelay(2, policy, () => -3)).toBe(200);
  });
});
