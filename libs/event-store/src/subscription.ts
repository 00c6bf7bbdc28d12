/**
 * A durable `$all` consumer: starts from its stored checkpoint, hands each domain event (validated)
 * to a handler one at a time, checkpoints as it goes, and when the connection drops it resubscribes
 * from the last event it handled, with backoff. A handler error or an invalid stored event stops
 * the subscription loudly rather than skip an event.
 */
import { Logger } from '@nestjs/common';
import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  type Position,
  START,
  eventTypeFilter,
  streamNameFilter,
} from '@eventstore/db-client';

import type { CheckpointStore } from './checkpoints.js';
import { StoredEventInvalid } from './errors.js';
import { type StoredEvent, decodeStored } from './event-store.js';

export interface SubscriptionOptions {
  /** Names the checkpoint; one running consumer per name. */
  readonly name: string;
  /** Stream-name prefixes to receive (server-side filter); all domain streams when absent. */
  readonly streamPrefixes?: readonly string[];
  /** Event-type prefixes to receive instead of stream prefixes. */
  readonly eventTypePrefixes?: readonly string[];
  readonly checkpoints: CheckpointStore;
  /** Store a checkpoint after this many handled events (default 100) and when caught up. */
  readonly checkpointEvery?: number;
  handle(event: StoredEvent): Promise<void>;
  /** Called once when history has been handled and the subscription is live. */
  onCaughtUp?(): void;
  /** Called when the subscription stops for good (handler error, invalid event). */
  onFailed?(error: Error): void;
}

export interface RunningSubscription {
  /** Resolves when the subscription first catches up with the store. */
  readonly caughtUp: Promise<void>;
  /** The last position handled, if any. */
  position(): Position | null;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 2_000;

export function runSubscription(
  client: EventStoreDBClient,
  options: SubscriptionOptions,
): RunningSubscription {
  const logger = new Logger(`Subscription(${options.name})`);
  const checkpointEvery = options.checkpointEvery ?? 100;
  let last: Position | null = null;
  let sinceCheckpoint = 0;
  let stopped = false;
  // Read through a function: `stopped` changes while the loop awaits, which narrowing cannot see.
  const isStopped = (): boolean => stopped;
  let failures = 0;
  let current: ReturnType<EventStoreDBClient['subscribeToAll']> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  let isCaughtUp = false;

  const saveCheckpoint = async (position: Position): Promise<void> => {
    sinceCheckpoint = 0;
    await options.checkpoints.save(options.name, position);
  };

  const filter =
    options.eventTypePrefixes && options.eventTypePrefixes.length > 0
      ? eventTypeFilter({ prefixes: [...options.eventTypePrefixes] })
      : options.streamPrefixes && options.streamPrefixes.length > 0
        ? streamNameFilter({ prefixes: [...options.streamPrefixes] })
        : eventTypeFilter({ regex: '^[^$]' });

  const fail = (error: Error): void => {
    if (stopped) return;
    stopped = true;
    logger.error(`stopped: ${error.message}`);
    void current?.unsubscribe();
    options.onFailed?.(error);
  };

  const run = async (): Promise<void> => {
    while (!stopped) {
      const from = last ?? (await options.checkpoints.load(options.name)) ?? START;
      const subscription = client.subscribeToAll({ fromPosition: from, filter });
      current = subscription;
      subscription.on('caughtUp', () => {
        failures = 0;
        if (last && sinceCheckpoint > 0) {
          void saveCheckpoint(last).catch((error: unknown) =>
            logger.warn(`checkpoint not saved: ${String(error)}`),
          );
        }
        if (!isCaughtUp) {
          isCaughtUp = true;
          markCaughtUp();
          options.onCaughtUp?.();
        }
      });
      try {
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          const recorded = resolved.event;
          if (!recorded || recorded.type.startsWith('$')) continue;
          await options.handle(decodeStored(recorded));
          last = recorded.position;
          sinceCheckpoint += 1;
          if (sinceCheckpoint >= checkpointEvery) await saveCheckpoint(recorded.position);
        }
        if (isStopped()) return;
      } catch (error) {
        if (isStopped()) return;
        if (error instanceof StoredEventInvalid) {
          fail(error);
          return;
        }
        // A dropped connection or a handler that failed for now: resubscribe after the last event
        // handled, so the failed one comes again.
        await subscription.unsubscribe().catch(() => undefined);
        failures += 1;
        const delay = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(failures, 6));
        logger.warn(`interrupted (${(error as Error).message}); resuming in ${delay} ms`);
        await new Promise<void>((resolve) => {
          retryTimer = setTimeout(resolve, delay);
        });
      }
    }
  };

  void run().catch((error: unknown) => {
    fail(error as Error);
  });
  return {
    caughtUp,
    position: () => last,
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      markCaughtUp();
      await current?.unsubscribe();
      if (last && sinceCheckpoint > 0) await saveCheckpoint(last).catch(() => undefined);
    },
  };
}
