/**
 * One stored domain event as a CloudEvents 1.0 event, built and validated by the `cloudevents` SDK:
 * `id` the event id, `source` `/nimbus/<category>`, `type` `org.nimbus.<Type>.v<version>`, `subject` the
 * stream, `time` when it happened, the payload as JSON (what the audience may see of it), and extension
 * attributes for the rest of the envelope and the feed's order.
 * Must never read a clock or the store: everything it says comes from the event and the caller.
 */
import { CloudEvent } from 'cloudevents';

import { type EventMetadata, definitionOf } from '#libs/contracts';

import { type Audience, auditData } from './audit-policy.js';
import { type FeedPosition, formatPosition, sequenceOf } from './position.js';

/** A decoded event with its place in the store (the event-store library's StoredEvent fits). */
export interface AuditSource {
  readonly type: string;
  readonly stream: string;
  readonly revision: bigint;
  readonly data: object;
  readonly metadata: EventMetadata;
}

export interface FeedContext {
  /** The event's `$all` position. */
  readonly position: FeedPosition;
  /** The project the event belongs to; null for the cloud's own. */
  readonly project: string | null;
  /**
   * Where this feed was before this event: the previous event it delivered, or the position it started
   * after; null when it started at the beginning of the store. A subscriber whose last record is not
   * this position has missed something (or is reading a different feed).
   */
  readonly previous: FeedPosition | null;
  readonly audience: Audience;
}

/**
 * The extension attributes Nimbus adds (lowercase letters and digits, at most 20 characters, as the
 * specification asks). Null envelope values are left out rather than sent empty.
 */
export const AUDIT_EXTENSIONS = {
  project: 'nimbusproject',
  actorUser: 'actoruser',
  actorProject: 'actorproject',
  actorKind: 'actorkind',
  correlationId: 'correlationid',
  causationId: 'causationid',
  position: 'position',
  previous: 'previousposition',
  sequence: 'sequence',
  revision: 'streamrevision',
  schemaVersion: 'schemaversion',
} as const;

export const AUDIT_SOURCE_PREFIX = '/nimbus/';
export const AUDIT_TYPE_PREFIX = 'org.nimbus.';

export type AuditCloudEvent = CloudEvent<Record<string, unknown>>;

export function auditTypeOf(type: string, version: number): string {
  return `${AUDIT_TYPE_PREFIX}${type}.v${version}`;
}

export function toCloudEvent(event: AuditSource, feed: FeedContext): AuditCloudEvent {
  const { metadata } = event;
  const { category, version } = definitionOf(event.type);
  const x = AUDIT_EXTENSIONS;
  const optional = (name: string, value: string | null): Record<string, string> =>
    value === null ? {} : { [name]: value };
  return new CloudEvent<Record<string, unknown>>({
    specversion: '1.0',
    id: metadata.eventId,
    source: `${AUDIT_SOURCE_PREFIX}${category}`,
    // The current version: decoding upcast older payloads, so the data has the current shape.
    type: auditTypeOf(event.type, version),
    subject: event.stream,
    time: metadata.occurredAt,
    datacontenttype: 'application/json',
    data: auditData(event.type, event.data, feed.audience),
    ...optional(x.project, feed.project),
    [x.actorUser]: metadata.actor.userId,
    ...optional(x.actorProject, metadata.actor.projectId),
    [x.actorKind]: metadata.actor.kind,
    [x.correlationId]: metadata.correlationId,
    ...optional(x.causationId, metadata.causationId),
    [x.position]: formatPosition(feed.position),
    ...optional(x.previous, feed.previous === null ? null : formatPosition(feed.previous)),
    [x.sequence]: sequenceOf(feed.position),
    [x.revision]: event.revision.toString(),
    [x.schemaVersion]: metadata.schemaVersion,
  });
}

/** The event in CloudEvents' JSON format (structured mode), as one plain object without absent attributes. */
export function auditEventJson(event: AuditCloudEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}
