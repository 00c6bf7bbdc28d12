/**
 * Group commit: every write that arrives while the event loop is busy joins the next transaction,
 * so many concurrent writers share one fsync. A write's promise settles only after its
 * transaction is durable; if the transaction fails, every write in it fails and none is kept.
 */
import type { EventLog } from './event-log.js';

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly log: EventLog) {}

  submit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the I/O callbacks of this loop turn: everything that arrived
        // in the same turn lands in the same transaction.
        setImmediate(() => {
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    let results: unknown[];
    try {
      results = this.log.commit(() => batch.map((pending) => pending.work()));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      pending.resolve(results[index]);
    });
  }
}
