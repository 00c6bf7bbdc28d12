/**
 * Shares one run of an async task among concurrent callers asking for the same key: the second
 * ensureImage for an image already being copied to a host waits for that copy instead of starting its
 * own. Only deduplicates within this process; the cache's write-then-rename keeps other processes safe.
 * Must never cache results: once a run settles, the next call runs the task again.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** Resolves with the task's value; `shared` is true when this call joined a run already under way. */
  async run(key: string, task: () => Promise<T>): Promise<{ value: T; shared: boolean }> {
    const existing = this.running.get(key);
    if (existing) return { value: await existing, shared: true };
    const run = Promise.resolve()
      .then(task)
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
    return { value: await run, shared: false };
  }
}
