/** Stored events for the ops checks' specs: envelopes as the store returns them, with streams, revisions and causes. */
import { EventMetadata, build } from '#libs/contracts';
import { envelope } from '#libs/domain/testing';
import type { StoredEvent } from '#libs/event-store';

export class History {
  private readonly revisions = new Map<string, bigint>();
  private commit = 0n;
  readonly events: StoredEvent[] = [];

  /** Appends `data` to `stream`, caused by `cause` (an earlier event) or by nobody. */
  add(stream: string, data: object, cause: StoredEvent | null = null): StoredEvent {
    const revision = this.revisions.get(stream) ?? 0n;
    this.revisions.set(stream, revision + 1n);
    this.commit += 100n;
    const { type, metadata } = envelope(data);
    const event: StoredEvent = {
      type,
      data,
      metadata: build(EventMetadata, {
        eventId: metadata.eventId,
        correlationId: metadata.correlationId,
        causationId: cause?.metadata.eventId ?? null,
        actor: metadata.actor,
        occurredAt: metadata.occurredAt,
        schemaVersion: metadata.schemaVersion,
      }),
      stream,
      revision,
      position: { commit: this.commit, prepare: this.commit },
    };
    this.events.push(event);
    return event;
  }
}
