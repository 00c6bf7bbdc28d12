/**
 * A durable `$all` consumer: starts from its stored checkpoint, hands each domain event (validated)
 * to a handler in order, one at a time or (with `inFlight`) several started before the first has
 * finished, checkpoints as it goes, and when the connection drops or a handler fails it resubscribes
 * after the last event whose handler, and every earlier one's, has finished, with backoff, so the
 * failed event comes again (and any later one already handled, for a handler that absorbs repeats).
 * An event that breaks its contract stops the subscription loudly; nothing is ever skipped.
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

import { STREAM_CATEGORIES } from '#libs/contracts';

import type { CheckpointStore } from './checkpoints.js';
import { StoredEventInvalid } from './errors.js';
import { type DecodedEvents, decodedEventsOf } from './decoded-events.js';
import { type StoredEvent, decodeStored } from './event-store.js';

export interface SubscriptionOptions {
  /** Names the checkpoint; one running consumer per name. */
  readonly name: string;
  /** Stream-name prefixes to receive (server-side filter); every domain category when absent. */
  readonly streamPrefixes?: readonly string[];
  /** Event-type prefixes to receive instead of stream prefixes. */
  readonly eventTypePrefixes?: readonly string[];
  readonly checkpoints: CheckpointStore;
  /** Store a checkpoint after this many handled events (default 100) and when caught up. */
  readonly checkpointEvery?: number;
  /**
   * How many handlers may run at once (default 1). They start in the order of `$all`; the checkpoint
   * and the resume point only pass an event once its handler and every earlier one have finished.
   */
  readonly inFlight?: number;
  handle(event: StoredEvent): Promise<void>;
  /** Called once, when everything up to the live point has been handled. */
  onCaughtUp?(): void;
  /** Called when the subscription stops for good (an event that breaks its contract). */
  onFailed?(error: Error): void;
}

export interface RunningSubscription {
  /** Resolves once every event up to the live point has been handled. */
  readonly caughtUp: Promise<void>;
  /** The last position handled, if any. */
  position(): Position | null;
  /** Stops after the event in hand, saves the checkpoint, and ends the server call. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 2_000;

/** Streams of every domain category, `instance-`, `host-`, ...; never checkpoints or system streams. */
export const DOMAIN_STREAM_PREFIXES: readonly string[] = Object.keys(STREAM_CATEGORIES).map(
  (category) => `${category}-`,
);

export function runSubscription(
  client: EventStoreDBClient,
  options: SubscriptionOptions,
): RunningSubscription {
  return new DurableSubscription(client, options).start();
}

type Subscription = ReturnType<EventStoreDBClient['subscribeToAll']>;

class DurableSubscription implements RunningSubscription {
  private readonly logger: Logger;
  private readonly decoded: DecodedEvents;
  private readonly checkpointEvery: number;
  private last: Position | null = null;
  private sinceCheckpoint = 0;
  private handled = 0;
  /** Events handed to the handler and not yet past `last`, in order; `done` once the handler finished. */
  private window: { readonly position: Position | undefined; done: boolean }[] = [];
  private stopped = false;
  private failures = 0;
  private current: Subscription | null = null;
  private saving: Promise<void> = Promise.resolve();
  private wakeRetry: (() => void) | null = null;
  /** How many handled events mean "caught up", once the server has said where the live point is. */
  private caughtUpAt: number | null = null;
  private isCaughtUp = false;
  private markCaughtUp: () => void = () => undefined;
  private running: Promise<void> = Promise.resolve();
  readonly caughtUp: Promise<void>;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: SubscriptionOptions,
  ) {
    this.logger = new Logger(`Subscription(${options.name})`);
    this.decoded = decodedEventsOf(client);
    this.checkpointEvery = options.checkpointEvery ?? 100;
    this.caughtUp = new Promise<void>((resolve) => {
      this.markCaughtUp = resolve;
    });
  }

  start(): this {
    this.running = this.run().catch((error: unknown) => {
      this.fail(error as Error);
    });
    return this;
  }

  position(): Position | null {
    return this.last;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    await this.saving;
    if (this.last && this.sinceCheckpoint > 0) await this.save(this.last);
    const current = this.current;
    if (current) {
      await current.unsubscribe();
      // The client swallows the cancellation it caused, so the stream would never end by itself.
      current.destroy();
    }
    await this.running;
  }

  private filter() {
    const { eventTypePrefixes, streamPrefixes } = this.options;
    if (eventTypePrefixes && eventTypePrefixes.length > 0)
      return eventTypeFilter({ prefixes: [...eventTypePrefixes] });
    return streamNameFilter({
      prefixes: [...(streamPrefixes?.length ? streamPrefixes : DOMAIN_STREAM_PREFIXES)],
    });
  }

  // Read through methods: these fields change while the loop awaits, which narrowing cannot see.
  private isStopped(): boolean {
    return this.stopped;
  }

  private async run(): Promise<void> {
    while (!this.isStopped()) {
      const from = this.last ?? (await this.options.checkpoints.load(this.options.name)) ?? START;
      if (this.isStopped()) return;
      const subscription = this.client.subscribeToAll({ fromPosition: from, filter: this.filter() });
      this.current = subscription;
      subscription.on('caughtUp', () => {
        // Events before the signal may still wait in the stream's buffer: caught up means handled.
        this.caughtUpAt = this.handled + this.window.length + subscription.readableLength;
        this.checkCaughtUp();
      });
      const running = new Set<Promise<void>>();
      const outcome: { failure: Error | null } = { failure: null };
      try {
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          const recorded = resolved.event;
          if (!recorded) continue;
          const entry = { position: recorded.position, done: false };
          const event = decodeStored(recorded, this.decoded);
          this.window.push(entry);
          const work: Promise<void> = this.options.handle(event).then(
            () => {
              entry.done = true;
              this.advance();
            },
            (error: unknown) => {
              if (outcome.failure !== null) return;
              outcome.failure = error as Error;
              // Ends the iteration now rather than at the next event, which may be long in coming.
              void subscription.unsubscribe().catch(() => undefined);
              subscription.destroy(outcome.failure);
            },
          );
          running.add(work);
          void work.finally(() => running.delete(work));
          if (running.size >= (this.options.inFlight ?? 1)) await Promise.race(running);
          if (outcome.failure !== null) throw outcome.failure;
        }
        await Promise.all(running);
        if (outcome.failure !== null) throw outcome.failure;
        if (this.isStopped()) return;
      } catch (error) {
        // Whatever is still running finishes first, so the resume point is where it will stay.
        await Promise.all(running);
        this.window = [];
        if (this.isStopped()) return;
        if (error instanceof StoredEventInvalid) throw error;
        await subscription.unsubscribe().catch(() => undefined);
        await this.backoff(error as Error);
      }
    }
  }

  /** Moves past every finished event at the head of the window: the resume point and the checkpoint. */
  private advance(): void {
    for (let head = this.window[0]; head?.done === true; head = this.window[0]) {
      this.window.shift();
      const { position } = head;
      this.handled += 1;
      this.failures = 0;
      this.last = position ?? this.last;
      this.sinceCheckpoint += 1;
      if (this.sinceCheckpoint >= this.checkpointEvery && this.last !== null)
        this.saveInBackground(this.last);
    }
    this.checkCaughtUp();
  }

  private checkCaughtUp(): void {
    if (this.caughtUpAt === null || this.handled < this.caughtUpAt) return;
    this.caughtUpAt = null;
    if (this.last && this.sinceCheckpoint > 0) this.saveInBackground(this.last);
    if (this.isCaughtUp) return;
    this.isCaughtUp = true;
    this.markCaughtUp();
    this.options.onCaughtUp?.();
  }

  private async backoff(error: Error): Promise<void> {
    this.failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.failures, 6));
    this.logger.warn(`interrupted (${error.message}); resuming in ${delay} ms`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.wakeRetry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeRetry = null;
  }

  /** Checkpoints are saved one after another, never concurrently, and stop() waits for them. */
  private saveInBackground(position: Position): void {
    this.sinceCheckpoint = 0;
    this.saving = this.saving
      .then(() => this.options.checkpoints.save(this.options.name, position))
      .catch((error: unknown) => {
        this.logger.warn(`checkpoint not saved: ${(error as Error).message}`);
      });
  }

  private async save(position: Position): Promise<void> {
    this.saveInBackground(position);
    await this.saving;
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.logger.error(`stopped: ${error.message}`);
    void this.current?.unsubscribe();
    this.options.onFailed?.(error);
  }
}
