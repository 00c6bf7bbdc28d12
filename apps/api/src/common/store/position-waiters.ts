/**
 * Promises that resolve when a subscriber has handled the `$all` position they wait for: the mechanism
 * behind read-your-writes. Positions are ordered by their commit position.
 */
import type { Position } from '@eventstore/db-client';

interface Waiter {
  readonly commit: bigint;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

export class PositionWaiters {
  private last: bigint = -1n;
  private waiting: Waiter[] = [];

  reached(position: Position): void {
    if (position.commit <= this.last) return;
    this.last = position.commit;
    if (this.waiting.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.waiting) {
      if (waiter.commit <= this.last) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else still.push(waiter);
    }
    this.waiting = still;
  }

  waitFor(position: Position, timeoutMs: number): Promise<void> {
    if (position.commit <= this.last || timeoutMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((waiter) => waiter.timer !== timer);
        resolve();
      }, timeoutMs);
      timer.unref();
      this.waiting.push({ commit: position.commit, resolve, timer });
    });
  }

  /** Releases every waiter: the subscriber stopped, waiting longer cannot help. */
  fail(_error: Error): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.waiting = [];
  }
}
