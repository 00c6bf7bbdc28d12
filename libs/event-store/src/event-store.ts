/**
 * The one way apps talk to the event store: typed appends that always state an expected revision,
 * reads that validate every event they return, folds of a stream into state with a pure `evolve`,
 * and decide-then-append with a bounded retry when another writer got there first.
 * An append that meets a failure of the moment (the node it reached is not the leader any more, the
 * connection dropped) is sent again, the same events with the same ids at the same expected revision,
 * once the client has reconnected (to the new leader): the store answers a repeat of a write it already
 * took with that write's result, so a retry neither loses the append nor makes it twice.
 * Never appends an event that fails its contract, and never swallows one read back that does.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type AppendExpectedRevision,
  BACKWARDS,
  CancelledError,
  END,
  type EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  NotLeaderError,
  type Position,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  jsonEvent,
} from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';

import {
  type Actor,
  type DecodedEvent,
  type Plain,
  categoryPart,
  decodeEvent,
  encodeEvent,
} from '#libs/contracts';
import { KeyedMutex } from '#libs/concurrency';
import { inSpan, traceparentOf } from '#libs/telemetry';

import { type DecodedEvents, decodedEventsOf } from './decoded-events.js';
import { ConcurrencyConflict, StoredEventInvalid } from './errors.js';

/**
 * Failures after which the client reconnects by itself (to the leader it was told of, or afresh), so
 * the same append may be sent again: a follower that is no longer or not yet the leader, a connection
 * that dropped or could not be made, a call the server cancelled.
 */
const MOMENTARY = [NotLeaderError, UnavailableError, CancelledError];

/**
 * Whether an append's failure is of the moment. The client's own probe of the server (its first call
 * on a new connection) fails with gRPC's UNAVAILABLE status as it comes, not as UnavailableError.
 */
function momentary(error: unknown): boolean {
  return (
    MOMENTARY.some((type) => error instanceof type) ||
    (error as { code?: unknown }).code === status.UNAVAILABLE
  );
}

/**
 * A failure of the moment as the client reports it elsewhere. A read that finds no connection fails
 * with UnavailableError, an append with gRPC's bare UNAVAILABLE status: callers (the API's 503) see
 * one type either way.
 */
function asClientError(error: unknown): unknown {
  const bare =
    (error as { code?: unknown }).code === status.UNAVAILABLE && !(error instanceof UnavailableError);
  return bare ? new UnavailableError(error as ConstructorParameters<typeof UnavailableError>[0]) : error;
}

/** The pauses before each repeat of an append that met a failure of the moment (about 3 s in all). */
const APPEND_RETRY_DELAYS_MS = [100, 200, 400, 800, 1_600];

/** Who and what caused the events being appended; stamped on every event's metadata. */
export interface EventContext {
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: Plain<Actor>;
  /**
   * Run just before the append is sent: throwing refuses it, and nothing is written. A writer that may
   * write only while it holds a lease (a compute agent, for its hosts) checks the lease here, after
   * everything slow, so the check is as late as it can be.
   */
  readonly fence?: () => void;
}

/** A decoded event with its place in the store. */
export interface StoredEvent<E extends object = object> extends DecodedEvent<E> {
  readonly stream: string;
  readonly revision: bigint;
  readonly position: Position | undefined;
  /** When the store committed it, by the store's clock (absent where a reader does not say). */
  readonly created?: Date;
}

/** A pure fold: no I/O, no clock. Event time comes from the event's metadata. */
export interface Reducer<S> {
  initial(): S;
  evolve(state: S, event: StoredEvent): S;
}

/** A stream's state and the revision it was folded up to (null: the stream does not exist). */
export interface Folded<S> {
  readonly state: S;
  readonly revision: bigint | null;
  /** The newest event folded here (null when none was read): whoever reacts names it as the cause. */
  readonly last: StoredEvent | null;
}

export interface AppendOutcome {
  readonly nextRevision: bigint;
  readonly position: Position | undefined;
  readonly eventIds: readonly string[];
}

/** What a decision returns: the events to append, each optionally with a fixed id for idempotency. */
export type Decision = readonly (object | { readonly event: object; readonly eventId: string })[];

export interface ExecuteOptions {
  /** Attempts before giving up with ConcurrencyConflict (default 5). */
  readonly attempts?: number;
  /**
   * The stream cannot exist yet: its name holds an id the caller has just made. The first attempt
   * then decides on the reducer's initial state and appends expecting no stream, without reading
   * it first; a stream that exists after all is folded and decided on as usual.
   */
  readonly fresh?: boolean;
}

const MAX_ATTEMPTS = 5;
/** The longest pause before a second attempt; each later attempt may wait that much longer. */
const RETRY_PAUSE_MS = 20;

export class EventStore {
  /** Decisions on one stream in this process, one at a time. */
  private readonly deciding = new KeyedMutex();
  private readonly decoded: DecodedEvents;

  constructor(
    readonly client: EventStoreDBClient,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.decoded = decodedEventsOf(client);
  }

  /**
   * Appends events with an explicit expected revision: a bigint, 'no_stream', or 'any' only where
   * order truly does not matter (e.g. independent facts about a host from one writer).
   */
  append(
    stream: string,
    events: Decision,
    expected: AppendExpectedRevision,
    context: EventContext,
  ): Promise<AppendOutcome> {
    return inSpan(`store.append ${categoryPart(stream)}`, async () => {
      const occurredAt = this.clock().toISOString();
      const traceparent = traceparentOf();
      const encoded = events.map((entry) => {
        const { event, eventId } =
          'event' in entry && 'eventId' in entry ? entry : { event: entry, eventId: undefined };
        return encodeEvent(event, { ...context, occurredAt, traceparent, ...(eventId ? { eventId } : {}) });
      });
      const messages = encoded.map((event) =>
        jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata }),
      );
      const result = await this.sendAppend(stream, messages, expected, context);
      return {
        nextRevision: result.nextExpectedRevision,
        position: result.position,
        eventIds: encoded.map((e) => e.id),
      };
    });
  }

  /**
   * Sends one append, again after a failure of the moment (APPEND_RETRY_DELAYS_MS apart), the same
   * events at the same expected revision; the fence is checked before every attempt.
   */
  private async sendAppend(
    stream: string,
    messages: ReturnType<typeof jsonEvent>[],
    expected: AppendExpectedRevision,
    context: EventContext,
  ): ReturnType<EventStoreDBClient['appendToStream']> {
    for (let attempt = 0; ; attempt += 1) {
      context.fence?.();
      try {
        return await this.client.appendToStream(stream, messages, { expectedRevision: expected });
      } catch (error) {
        const delay = APPEND_RETRY_DELAYS_MS[attempt];
        if (!momentary(error)) throw error;
        if (delay === undefined) throw asClientError(error);
        await sleep(delay);
      }
    }
  }

  /** Reads a stream forwards, each event validated; a missing stream reads as empty. */
  async *read(
    stream: string,
    options: { fromRevision?: bigint; maxCount?: number; backwards?: boolean } = {},
  ): AsyncGenerator<StoredEvent> {
    const reading = this.client.readStream(stream, {
      fromRevision: options.fromRevision ?? (options.backwards ? END : START),
      direction: options.backwards ? BACKWARDS : FORWARDS,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    // The whole read completes before anything is yielded: a caller that stops early (a fold up
    // to a revision) must not leave a half-read gRPC call behind, which the client could then
    // never dispose of. Streams are bounded by `maxCount` where they may be long.
    const recorded = [];
    try {
      for await (const resolved of reading) if (resolved.event) recorded.push(resolved.event);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      throw error;
    }
    for (const event of recorded) {
      if (!event.type.startsWith('$')) yield decodeStored(event, this.decoded);
    }
  }

  /**
   * The `$all` position of the stream's last event (null: no such stream), without decoding it: how far
   * a projection must have got to answer for the stream as of now.
   */
  async head(stream: string): Promise<Position | null> {
    let position: Position | null = null;
    try {
      // Read to the end (one event), for the reason `read` gives.
      const reading = this.client.readStream(stream, {
        fromRevision: END,
        direction: BACKWARDS,
        maxCount: 1,
      });
      for await (const resolved of reading) position = resolved.event?.position ?? position;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    return position;
  }

  /**
   * Folds a stream, optionally only up to a revision or a point in time (time travel), and optionally
   * on from a state already folded up to a revision, reading only the events after it.
   */
  async fold<S>(
    stream: string,
    reducer: Reducer<S>,
    until: { revision?: bigint; time?: Date } = {},
    from?: { readonly state: S; readonly revision: bigint },
  ): Promise<Folded<S>> {
    let state = from?.state ?? reducer.initial();
    let last: StoredEvent | null = null;
    const reading = from === undefined ? {} : { fromRevision: from.revision + 1n };
    for await (const event of this.read(stream, reading)) {
      if (until.revision !== undefined && event.revision > until.revision) break;
      if (until.time && new Date(event.metadata.occurredAt) > until.time) break;
      state = reducer.evolve(state, event);
      last = event;
    }
    return { state, revision: last?.revision ?? from?.revision ?? null, last };
  }

  /**
   * Loads the stream, asks `decide` what should happen, and appends that at the revision it
   * decided on. If another writer appended in between, the whole thing runs again on fresh state,
   * a bounded number of times, after a short random pause that grows with each attempt. `decide`
   * may throw a domain error to refuse.
   *
   * Decisions on one stream through this store take turns, so writers in one process never race
   * each other (many boots adding ports to one network at once all get through); the expected
   * revision still settles races with other processes.
   */
  execute<S>(
    stream: string,
    reducer: Reducer<S>,
    decide: (state: S, revision: bigint | null) => Decision,
    context: EventContext,
    options: ExecuteOptions = {},
  ): Promise<{ state: S; appended: AppendOutcome | null }> {
    return inSpan(`store.execute ${categoryPart(stream)}`, () =>
      this.deciding.run(stream, () => this.decideAndAppend(stream, reducer, decide, context, options)),
    );
  }

  private async decideAndAppend<S>(
    stream: string,
    reducer: Reducer<S>,
    decide: (state: S, revision: bigint | null) => Decision,
    context: EventContext,
    options: ExecuteOptions,
  ): Promise<{ state: S; appended: AppendOutcome | null }> {
    const attempts = options.attempts ?? MAX_ATTEMPTS;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) await sleep(Math.random() * RETRY_PAUSE_MS * (attempt - 1));
      const { state, revision } =
        attempt === 1 && options.fresh === true
          ? { state: reducer.initial(), revision: null }
          : await this.fold(stream, reducer);
      const events = decide(state, revision);
      if (events.length === 0) return { state, appended: null };
      try {
        const appended = await this.append(stream, events, revision ?? NO_STREAM, context);
        return { state, appended };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
      }
    }
    throw new ConcurrencyConflict(stream, attempts);
  }
}

interface RecordedLike {
  readonly id: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
  readonly created?: Date;
}

/**
 * Decodes one recorded event, wrapping any contract problem with where the event sits. Given the
 * decoded events of the store it was read from, an event met before is not checked again.
 */
export function decodeStored(recorded: RecordedLike, known?: DecodedEvents): StoredEvent {
  try {
    const fresh = (): DecodedEvent =>
      decodeEvent({ type: recorded.type, data: recorded.data, metadata: recorded.metadata });
    const decoded = known === undefined ? fresh() : known.decode(recorded, fresh);
    return {
      ...decoded,
      stream: recorded.streamId,
      revision: recorded.revision,
      position: recorded.position,
      ...(recorded.created === undefined ? {} : { created: recorded.created }),
    };
  } catch (error) {
    throw new StoredEventInvalid(recorded.streamId, recorded.revision, error as Error);
  }
}
