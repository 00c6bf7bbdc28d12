/**
 * Encoding events for the store and decoding them back: the event-store layer calls only these two.
 * Encoding validates the event and stamps type, schema version and event id; decoding validates the
 * envelope, upcasts old data step by step to the current version, then validates the payload.
 * Must never write an event that fails its contract, and never return one read back that fails it: every
 * problem is a loud ContractViolation, never a skipped event.
 */
import { randomUUID } from 'node:crypto';
import { conform, jsonObjectIssues, toValidJson, type ContractLabel, type Plain } from './conformance.js';
import { EventMetadata, type Actor } from './envelope.js';
import { ContractViolation, type ContractIssue } from './errors.js';
import { definitionOf, eventTypeOf, upcasterFor, type EventData, type EventDefinition } from './registry.js';
import type { ContractClass } from './validation.js';

/** What the caller knows about an event's circumstances; the codec adds type, version and (if absent) id. */
export interface EncodeMeta {
  readonly correlationId: string;
  readonly causationId: string | null;
  /** Only userId, projectId and kind are recorded; anything else on the object is left out. */
  readonly actor: Plain<Actor>;
  /** Passed in (the caller's clock), so deciders stay pure and replays stay identical. */
  readonly occurredAt: string;
  /** Give one to make an append idempotent across retries; a fresh UUID otherwise. */
  readonly eventId?: string;
  /** The appending span's W3C trace context, when tracing is on. */
  readonly traceparent?: string | undefined;
}

/** An event ready to append: `id` is also the metadata's eventId and the JetStream message id. */
export interface EncodedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/** What the store hands back: the type and the JSON-parsed data and metadata, as stored. */
export interface RawEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

/** A decoded event: `data` is an instance of the type's class at its current version. */
export interface DecodedEvent<T extends object = object, K extends string = string> {
  readonly type: K;
  readonly data: T;
  /** As stored: `schemaVersion` is the version the data was written at, even when it was upcast. */
  readonly metadata: EventMetadata;
}

/** A discriminated union of decoded events for a catalog such as INSTANCE_EVENTS (switch on `type`). */
export type EventUnion<C extends Readonly<Record<string, ContractClass>>> = {
  [K in keyof C & string]: DecodedEvent<InstanceType<C[K]>, K>;
}[keyof C & string];

/**
 * EventStoreDB's system projections ($by_correlation_id) read these metadata keys, so the store can group a
 * request's events by itself. They mirror correlationId and causationId and are checked on decode.
 */
const STORE_CORRELATION_KEY = '$correlationId';
const STORE_CAUSATION_KEY = '$causationId';

export function encodeEvent(event: object, meta: EncodeMeta): EncodedEvent {
  const definition = definitionOf(eventTypeOf(event));
  const { type, version } = definition;
  const data = toValidJson(event, definition.eventClass, { contract: type, version, context: 'encode' });

  const eventId = meta.eventId ?? randomUUID();
  const envelope = {
    eventId,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    actor: { userId: meta.actor.userId, projectId: meta.actor.projectId, kind: meta.actor.kind },
    occurredAt: meta.occurredAt,
    schemaVersion: version,
    ...(meta.traceparent === undefined ? {} : { traceparent: meta.traceparent }),
  };
  conform(EventMetadata, envelope, { contract: 'EventMetadata', version: null, context: `encode ${type}` });

  return {
    id: eventId,
    type,
    data,
    metadata: {
      ...envelope,
      [STORE_CORRELATION_KEY]: envelope.correlationId,
      ...(envelope.causationId === null ? {} : { [STORE_CAUSATION_KEY]: envelope.causationId }),
    },
  };
}

export function decodeEvent(raw: RawEvent): DecodedEvent {
  const definition = definitionOf(raw.type);
  const metadata = decodeMetadata(raw.type, raw.metadata);
  const stored = metadata.schemaVersion;
  failIfAny({ contract: definition.type, version: stored, context: 'decode' }, jsonObjectIssues(raw.data));

  const current = upcast(definition, raw.data as EventData, stored);
  const context = stored === definition.version ? 'decode' : `decode, stored as v${stored} and upcast`;
  const data = conform(definition.eventClass, current, {
    contract: definition.type,
    version: definition.version,
    context,
  });
  return { type: definition.type, data, metadata };
}

/** Whether a decoded event is of the given class; narrows `data` to it. */
export function isEvent<T extends object>(
  event: DecodedEvent,
  eventClass: ContractClass<T>,
): event is DecodedEvent<T> {
  return event.data instanceof eventClass;
}

function decodeMetadata(type: string, raw: unknown): EventMetadata {
  const label: ContractLabel = { contract: 'EventMetadata', version: null, context: `decode ${type}` };
  failIfAny(label, jsonObjectIssues(raw));

  const {
    [STORE_CORRELATION_KEY]: storeCorrelation,
    [STORE_CAUSATION_KEY]: storeCausation,
    ...envelope
  } = raw as Record<string, unknown>;
  const metadata = conform(EventMetadata, envelope, label);
  failIfAny(label, [
    ...(storeCorrelation === undefined || storeCorrelation === metadata.correlationId
      ? []
      : [{ path: STORE_CORRELATION_KEY, problems: ['must equal correlationId'] }]),
    ...(storeCausation === undefined || storeCausation === metadata.causationId
      ? []
      : [{ path: STORE_CAUSATION_KEY, problems: ['must equal causationId'] }]),
  ]);
  return metadata;
}

/** Runs the upcasters from the stored version to the current one, each on its own copy of the data. */
function upcast(definition: EventDefinition, data: EventData, stored: number): EventData {
  const { type, version } = definition;
  failIfAny(
    { contract: type, version: stored, context: 'decode' },
    stored > version
      ? [
          {
            path: '(root)',
            problems: [
              `was written at v${stored}, newer than this code's v${version}: deploy newer code to read it`,
            ],
          },
        ]
      : [],
  );

  let current = data;
  for (let from = stored; from < version; from += 1) {
    const label: ContractLabel = {
      contract: type,
      version: from,
      context: `decode, upcasting v${from} to v${from + 1}`,
    };
    const step = upcasterFor(type, from);
    if (step === undefined) {
      throw violation(label, [
        { path: '(root)', problems: [`has no upcaster: registerUpcaster('${type}', ${from}, fn)`] },
      ]);
    }
    try {
      // A JSON copy, not structuredClone: its objects are this realm's plain objects, as decoded data is.
      current = step(JSON.parse(JSON.stringify(current)) as EventData);
    } catch (error) {
      throw violation(label, [{ path: '(root)', problems: ['the upcaster threw'] }], error);
    }
    failIfAny({ ...label, context: `${label.context}: the upcaster's result` }, jsonObjectIssues(current));
  }
  return current;
}

function violation(
  label: ContractLabel,
  issues: readonly ContractIssue[],
  cause?: unknown,
): ContractViolation {
  return new ContractViolation(label.contract, label.version, issues, { context: label.context, cause });
}

function failIfAny(label: ContractLabel, issues: readonly ContractIssue[]): void {
  if (issues.length > 0) throw violation(label, issues);
}
