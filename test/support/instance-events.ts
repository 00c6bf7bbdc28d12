/**
 * Watches the instance streams of a running system through a live `$all` subscription, so that a
 * test can act the moment an event is written (kill the scheduler at the first HostSelected of a
 * burst) rather than after a guessed pause. It only observes: it never writes, and it knows event
 * types and stream names only, not the domain's reducers, so it cannot share their bugs.
 */
import { END, type EventStoreDBClient, streamNameFilter } from '@eventstore/db-client';

import { eventually } from './eventually.js';

const INSTANCE_STREAM_PREFIX = 'instance-';

export interface SeenEvent {
  readonly type: string;
  readonly instanceId: string;
}

export class InstanceEvents {
  private readonly seen: SeenEvent[] = [];
  private failure: Error | null = null;

  private constructor(private readonly unsubscribe: () => Promise<void>) {}

  /** Subscribes from the end of `$all` and resolves once the subscription is live. */
  static async watch(client: EventStoreDBClient): Promise<InstanceEvents> {
    const subscription = client.subscribeToAll({
      fromPosition: END,
      filter: streamNameFilter({ prefixes: [INSTANCE_STREAM_PREFIX] }),
    });
    const watcher = new InstanceEvents(() => subscription.unsubscribe());
    let live = false;
    subscription.on('caughtUp', () => {
      live = true;
    });
    subscription.on('data', (resolved) => {
      const event = resolved.event;
      if (!event || event.type.startsWith('$')) return;
      watcher.seen.push({
        type: event.type,
        instanceId: event.streamId.slice(INSTANCE_STREAM_PREFIX.length),
      });
    });
    subscription.on('error', (error: Error) => {
      watcher.failure = error;
    });
    await eventually('the instance-event subscription to be live', () => (live ? true : undefined));
    return watcher;
  }

  /** How many events have been seen so far: pass it to `next` to wait only for later ones. */
  mark(): number {
    return this.seen.length;
  }

  /** The first event of `type` for one of `instanceIds`, seen at or after `from`, as soon as it is written. */
  next(
    type: string,
    instanceIds: readonly string[],
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<SeenEvent> {
    const wanted = new Set(instanceIds);
    return eventually(
      `a ${type} of one of ${instanceIds.length} instances`,
      () => {
        if (this.failure !== null)
          throw new Error(`the instance-event subscription failed: ${this.failure.message}`);
        return this.seen
          .slice(options.from ?? 0)
          .find((seen) => seen.type === type && wanted.has(seen.instanceId));
      },
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 2 },
    );
  }

  stop(): Promise<void> {
    return this.unsubscribe();
  }
}
