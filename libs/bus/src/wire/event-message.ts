/**
 * The wire format of a stored event on NATS: what the relay publishes for each event it reads from `$all`,
 * and how a consumer turns a received message back into a validated event with its place in the store.
 * Must never let a message through that fails its contract or disagrees with itself (subject, message id,
 * stream): every problem is an EventMessageInvalid naming what is wrong, never the offending values.
 */
import {
  EventMetadata,
  build,
  decodeEvent,
  definitionOf,
  streamOf,
  subjectFor,
  type DecodedEvent,
} from '#libs/contracts';
import type { StoredEvent } from '#libs/event-store';

import { BUS_HEADERS } from './headers.js';

/** A position in `$all`, as decimal strings on the wire (JSON has no 64-bit integers). */
export interface WirePosition {
  readonly commit: string;
  readonly prepare: string;
}

/**
 * The JSON body of an event message. `dataVersion` is the schema version `data` is at: the relay hands on
 * the event as its code decoded it (upcast to the current version), while `metadata.schemaVersion` keeps
 * the version it was stored at. Without it a consumer would upcast already-upcast data a second time.
 */
export interface EventMessageBody {
  readonly stream: string;
  readonly revision: string;
  readonly position: WirePosition;
  readonly type: string;
  readonly dataVersion: number;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/** What the relay publishes: the subject, the JetStream message id (the event id), headers and body. */
export interface OutgoingEventMessage {
  readonly subject: string;
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: EventMessageBody;
}

/** A position in `$all` as numbers again. */
export interface BusPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** A received event message, validated: the decoded event and where it sits in the store. */
export interface DecodedEventMessage<T extends object = object> extends DecodedEvent<T> {
  readonly stream: string;
  readonly revision: bigint;
  readonly position: BusPosition;
  /** The JetStream message id, equal to `metadata.eventId`. */
  readonly messageId: string;
}

/** What a consumer received, before any checks. */
export interface IncomingEventMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly messageId: string | undefined;
}

/** A received message that is not a valid event message; it names each problem and never a value. */
export class EventMessageInvalid extends Error {
  override readonly name = 'EventMessageInvalid';

  constructor(
    readonly subject: string,
    /** `stream@revision` when the body got far enough to say, for the operator looking for it. */
    readonly storedAt: string | null,
    readonly problems: readonly string[],
    options: { readonly cause?: unknown } = {},
  ) {
    super(
      `event message on ${subject}${storedAt === null ? '' : ` (${storedAt})`} is invalid:\n${problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** The message the relay publishes for one stored event read from `$all`. */
export function toEventMessage(event: StoredEvent): OutgoingEventMessage {
  if (event.position === undefined) {
    // Events read from `$all` always carry one; a stream read does not, and is not what the relay relays.
    throw new Error(`event ${event.stream}@${event.revision} has no $all position; relay events from $all`);
  }
  const subject = subjectFor(event.type);
  return {
    subject,
    messageId: event.metadata.eventId,
    headers: {
      [BUS_HEADERS.eventType]: event.type,
      [BUS_HEADERS.stream]: event.stream,
      [BUS_HEADERS.correlationId]: event.metadata.correlationId,
    },
    body: {
      stream: event.stream,
      revision: event.revision.toString(),
      position: { commit: event.position.commit.toString(), prepare: event.position.prepare.toString() },
      type: event.type,
      dataVersion: definitionOf(event.type).version,
      // The decoded instances hold plain data only (the codec validated them), so JSON is exact.
      data: toJsonObject(event.data),
      metadata: toJsonObject(event.metadata),
    },
  };
}

export function encodeEventMessageBody(body: EventMessageBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(body));
}

/** Validates a received message and decodes its event; throws EventMessageInvalid. */
export function fromEventMessage(message: IncomingEventMessage): DecodedEventMessage {
  const { subject } = message;
  const body = parseBody(subject, message.data);
  const storedAt = `${body.stream}@${body.revision}`;

  const storedVersion = body.metadata['schemaVersion'];
  if (!isVersion(storedVersion) || storedVersion > body.dataVersion) {
    throw new EventMessageInvalid(subject, storedAt, [
      'metadata.schemaVersion must be an integer >= 1 and not above dataVersion',
    ]);
  }

  let decoded: DecodedEvent;
  try {
    // Decoded at the version the data is at, so no upcaster runs twice; the envelope keeps the stored one.
    decoded = decodeEvent({
      type: body.type,
      data: body.data,
      metadata: { ...body.metadata, schemaVersion: body.dataVersion },
    });
  } catch (error) {
    throw new EventMessageInvalid(subject, storedAt, [(error as Error).message], { cause: error });
  }

  const problems = [
    ...(subject === subjectFor(decoded.type) ? [] : [`the subject is not the one of ${decoded.type}`]),
    ...(message.messageId === decoded.metadata.eventId
      ? []
      : ['the Nats-Msg-Id header is missing or differs from metadata.eventId']),
    ...(body.stream === streamOf(decoded.data) ? [] : [`stream is not the one the ${decoded.type} names`]),
  ];
  if (problems.length > 0) throw new EventMessageInvalid(subject, storedAt, problems);

  return {
    type: decoded.type,
    data: decoded.data,
    metadata: build(EventMetadata, {
      eventId: decoded.metadata.eventId,
      correlationId: decoded.metadata.correlationId,
      causationId: decoded.metadata.causationId,
      actor: decoded.metadata.actor,
      occurredAt: decoded.metadata.occurredAt,
      schemaVersion: storedVersion,
    }),
    stream: body.stream,
    revision: BigInt(body.revision),
    position: { commit: BigInt(body.position.commit), prepare: BigInt(body.position.prepare) },
    messageId: decoded.metadata.eventId,
  };
}

const BODY_KEYS: ReadonlySet<string> = new Set([
  'stream',
  'revision',
  'position',
  'type',
  'dataVersion',
  'data',
  'metadata',
]);
const UNSIGNED = /^(0|[1-9][0-9]{0,19})$/;

function parseBody(subject: string, bytes: Uint8Array): EventMessageBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new EventMessageInvalid(subject, null, ['the body is not UTF-8 JSON'], { cause: error });
  }
  if (!isRecord(parsed)) throw new EventMessageInvalid(subject, null, ['the body must be a JSON object']);

  const { stream, revision, position, type, dataVersion, data, metadata } = parsed;
  const problems = [
    ...Object.keys(parsed)
      .filter((key) => !BODY_KEYS.has(key))
      .map((key) => `property ${key} is not part of an event message`),
    ...(typeof stream === 'string' ? [] : ['stream must be a string']),
    ...(typeof revision === 'string' && UNSIGNED.test(revision)
      ? []
      : ['revision must be an unsigned decimal string']),
    ...(isRecord(position) &&
    typeof position['commit'] === 'string' &&
    UNSIGNED.test(position['commit']) &&
    typeof position['prepare'] === 'string' &&
    UNSIGNED.test(position['prepare']) &&
    Object.keys(position).length === 2
      ? []
      : ['position must be { commit, prepare } as unsigned decimal strings']),
    ...(typeof type === 'string' ? [] : ['type must be a string']),
    ...(isVersion(dataVersion) ? [] : ['dataVersion must be an integer >= 1']),
    ...(isRecord(data) ? [] : ['data must be a JSON object']),
    ...(isRecord(metadata) ? [] : ['metadata must be a JSON object']),
  ];
  const storedAt =
    typeof stream === 'string' && typeof revision === 'string' ? `${stream}@${revision}` : null;
  if (problems.length > 0) throw new EventMessageInvalid(subject, storedAt, problems);
  return parsed as unknown as EventMessageBody;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function toJsonObject(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
