/**
 * The metadata envelope every stored event carries: who caused it (actor), which request it belongs to
 * (correlation), which event it reacts to (causation), when, and the payload's schema version. An auditor
 * answers "who did this and what led to it" from the store alone.
 * Must never hold payload facts, and payloads must never hold actor fields: the same fact caused by a user
 * or by a service has the same payload.
 */
import {
  IsBoundedInt,
  IsKeystoneId,
  IsLowercaseUuid,
  IsOneOf,
  IsPattern,
  IsTimestamp,
  NestedObject,
  Nullable,
  Optional,
  PATTERNS,
} from './validation.js';
import { ACTOR_KINDS, type ActorKind } from './vocabulary.js';

/**
 * The envelope's shape version, recorded in fingerprints.json as `EventMetadata.v1`. Every stored event
 * carries an envelope of some past shape, and envelopes have no upcasters: before changing EventMetadata,
 * make decoding accept both shapes, then bump this.
 */
export const ENVELOPE_VERSION = 2;

export class Actor {
  /** The Keystone user id, or the service's name (`scheduler`, `compute`) for service actors. */
  @IsKeystoneId()
  readonly userId!: string;

  /** The project the user was scoped to; null for services and unscoped (system) tokens. */
  @Nullable()
  @IsKeystoneId()
  readonly projectId!: string | null;

  @IsOneOf(ACTOR_KINDS)
  readonly kind!: ActorKind;
}

export class EventMetadata {
  /** Also the store's event id and the JetStream message id, so a re-publish is dropped as a duplicate. */
  @IsLowercaseUuid()
  readonly eventId!: string;

  /** The request id the API returned as `x-openstack-request-id` (`req-<uuid>`), carried by every effect. */
  @IsPattern(PATTERNS.correlationId, 'printable ASCII without spaces', 128)
  readonly correlationId!: string;

  /** The id of the event this one reacts to; null when a user's request caused it directly. */
  @Nullable()
  @IsLowercaseUuid()
  readonly causationId!: string | null;

  @NestedObject(() => Actor)
  readonly actor!: Actor;

  /** When the fact happened, by the clock of the process that decided it (passed in, never read inside). */
  @IsTimestamp()
  readonly occurredAt!: string;

  /** The payload's schema version as stored; decoding upcasts the payload but never rewrites this. */
  @IsBoundedInt(1)
  readonly schemaVersion!: number;

  /**
   * The W3C trace context of the span that appended the event, so the reactions to it join the same
   * trace (since v2; absent when tracing is off, and in every v1 envelope).
   */
  @Optional()
  @IsPattern(PATTERNS.traceparent, 'a W3C traceparent', 55)
  readonly traceparent?: string;
}
