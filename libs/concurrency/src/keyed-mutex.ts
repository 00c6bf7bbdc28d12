/**
 * Runs tasks one at a time per key, in call order: the drivers take it per domain, so a duplicate
 * spawn, or a delete racing a reboot, sees the other's finished work instead of interleaving with it
 * (two interleaved spawns could remove the disk of a domain the other had just started).
 * Must never hold a key after its task settles, whether it resolved or threw.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => turn);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
