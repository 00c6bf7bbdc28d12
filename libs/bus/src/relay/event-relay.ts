/**
 * The relay: tails `$all` from its checkpoint and publishes each domain event to its NATS subject in
 * NIMBUS_EVENTS, with the event id as the JetStream message id. Publishes are pipelined: up to
 * `inFlight` are sent, in the order of `$all` on the one connection, before the first PubAck is back.
 * A failed publish fails the handler, and runSubscription resubscribes after the last event that was
 * acknowledged with every one before it, so nothing is skipped; what was already stored after it is
 * re-published and dropped by JetStream's de-duplication within its window, as after a restart.
 * Must never publish an event that is not in the store (it only reads `$all`), never move its checkpoint
 * past an event JetStream has not acknowledged, and never run twice under one name (one checkpoint, one
 * writer). The scheduler hosts it by default; any process with the store and NATS can.
 */
import { Logger } from '@nestjs/common';
import type { EventStoreDBClient } from '@eventstore/db-client';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';

import { EVENTS_STREAM, STREAM_CATEGORIES, type StreamCategory } from '#libs/contracts';
import { contextOf, inSpan, recordSpan, traceparentOf } from '#libs/telemetry';
import {
  type CheckpointStore,
  type RunningSubscription,
  type StoredEvent,
  StreamCheckpointStore,
  runSubscription,
} from '#libs/event-store';

import { type EventsStreamLimits, ensureEventsStream } from '../connection/events-stream.js';
import { encodeEventMessageBody, toEventMessage } from '../wire/event-message.js';
import { TRACEPARENT_HEADER } from '../wire/headers.js';

export interface EventRelayOptions {
  readonly store: EventStoreDBClient;
  readonly jetstream: JetStreamClient;
  /** Where the relay's position is kept (default: `checkpoint-<name>` streams in the store). */
  readonly checkpoints?: CheckpointStore;
  /** The checkpoint name (default `relay`); one running relay per name. */
  readonly name?: string;
  /**
   * The stream categories to relay (default: every category contracts define). Leave out a category
   * whose events must not be broadcast: everything relayed is readable by any client of the NATS account.
   */
  readonly categories?: readonly StreamCategory[];
  /**
   * Store the checkpoint after this many published events (default 20) and whenever caught up. A crash
   * re-publishes at most this many, which JetStream drops within its duplicate window.
   */
  readonly checkpointEvery?: number;
  /**
   * How many publishes may wait for their PubAck at once (default 64): one at a time, the relay's
   * round trips would cap how many events a second reach the bus.
   */
  readonly inFlight?: number;
  /** How long to wait for a PubAck before the publish counts as failed (default 5000 ms). */
  readonly publishTimeoutMs?: number;
  /**
   * Recreate NIMBUS_EVENTS when a publish finds no stream (a wiped JetStream), with these limits
   * (default true). The relay's history is not re-published into it: the reconciler covers the gap.
   */
  readonly ensureStream?: boolean;
  readonly streamLimits?: EventsStreamLimits;
  /** Called if the relay stops for good: a stored event that breaks its contract (never skipped). */
  onFailed?(error: Error): void;
}

export interface EventRelayStats {
  /** Events JetStream stored since start. */
  readonly published: number;
  /** Events JetStream already had (a re-publish after a restart), since start. */
  readonly duplicates: number;
}

/**
 * The domain streams to read, by category prefix. `$all` also holds the relay's own `checkpoint-relay`
 * stream, whose events are not `$`-typed and are no contract's; a type filter alone would hand them to the
 * codec, which rejects them and would stop the relay.
 */
function streamPrefixes(categories: readonly StreamCategory[] | undefined): string[] {
  const all = Object.keys(STREAM_CATEGORIES) as StreamCategory[];
  const chosen = categories ?? all;
  if (chosen.length === 0) throw new Error('the relay needs at least one stream category');
  return chosen.map((category) => `${category}-`);
}

export class EventRelay {
  private readonly logger: Logger;
  private readonly name: string;
  private subscription: RunningSubscription | null = null;
  private published = 0;
  private duplicates = 0;

  constructor(private readonly options: EventRelayOptions) {
    this.name = options.name ?? 'relay';
    this.logger = new Logger(`EventRelay(${this.name})`);
  }

  /**
   * Starts tailing `$all`; resolves when the subscription reports it has caught up with the store (events
   * read just before that may still be publishing: watch stats() to know what JetStream has).
   */
  start(): Promise<void> {
    if (this.subscription !== null) throw new Error(`relay ${this.name} is already running`);
    const { store, checkpoints = new StreamCheckpointStore(store) } = this.options;
    this.subscription = runSubscription(store, {
      name: this.name,
      streamPrefixes: streamPrefixes(this.options.categories),
      checkpoints,
      checkpointEvery: this.options.checkpointEvery ?? 20,
      inFlight: this.options.inFlight ?? 64,
      handle: (event) => this.publish(event),
      onCaughtUp: () => {
        this.logger.log('caught up with the store; relaying live');
      },
      onFailed: (error) => {
        this.logger.error(`stopped for good; events after the failure are not relayed: ${error.message}`);
        this.options.onFailed?.(error);
      },
    });
    return this.subscription.caughtUp;
  }

  /** Stops tailing and stores the checkpoint of the last acknowledged event. */
  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.stop();
  }

  stats(): EventRelayStats {
    return { published: this.published, duplicates: this.duplicates };
  }

  /** Publishes in a span of the trace the event's envelope names, and passes that trace on in a header. */
  private publish(event: StoredEvent): Promise<void> {
    const trace = contextOf(event.metadata.traceparent);
    if (event.created !== undefined)
      recordSpan(`relay.receive ${event.type}`, event.created.getTime(), trace);
    return inSpan(`relay.publish ${event.type}`, () => this.publishNow(event), { parent: trace });
  }

  private async publishNow(event: StoredEvent): Promise<void> {
    const message = toEventMessage(event);
    const messageHeaders = headers();
    for (const [key, value] of Object.entries(message.headers)) messageHeaders.set(key, value);
    const traceparent = traceparentOf();
    if (traceparent !== undefined) messageHeaders.set(TRACEPARENT_HEADER, traceparent);

    let ack: PubAck;
    try {
      ack = await this.options.jetstream.publish(message.subject, encodeEventMessageBody(message.body), {
        msgID: message.messageId,
        headers: messageHeaders,
        timeout: this.options.publishTimeoutMs ?? 5_000,
        // Refuses to count the publish as done unless NIMBUS_EVENTS itself stored it.
        expect: { streamName: EVENTS_STREAM },
      });
    } catch (error) {
      // No stream answered: JetStream is still starting, or came back without NIMBUS_EVENTS.
      if (error instanceof Error && error.name === 'JetStreamNotEnabled') await this.recreateStream();
      // runSubscription logs this, backs off and hands the same event again.
      throw new Error(
        `publishing ${event.type} ${event.stream}@${event.revision} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (ack.duplicate) this.duplicates += 1;
    else this.published += 1;
  }

  private async recreateStream(): Promise<void> {
    if (this.options.ensureStream === false) return;
    try {
      await ensureEventsStream(await this.options.jetstream.jetstreamManager(), this.options.streamLimits);
    } catch (error) {
      this.logger.warn(`NIMBUS_EVENTS is not available yet: ${(error as Error).message}`);
    }
  }
}
