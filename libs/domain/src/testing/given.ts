/**
 * Given/when/then helpers for specs of the pure aggregates: wrap event payloads in envelopes the
 * way the store would hand them back, with a clock the spec controls.
 */
import { randomUUID } from 'node:crypto';

import { type DecodedEvent, EventMetadata, build, eventTypeOf } from '#libs/contracts';

let tick = Date.parse('2026-11-22T10:00:00.000Z');

export function envelope<T extends object>(
  data: T,
  actor = { userId: 'u-1', projectId: 'p-1' },
): DecodedEvent<T> {
  tick += 1_000;
  return {
    type: eventTypeOf(data),
    data,
    metadata: build(EventMetadata, {
      eventId: randomUUID(),
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { ...actor, kind: 'user' },
      occurredAt: new Date(tick).toISOString(),
      schemaVersion: 1,
    }),
  };
}

export function foldAll<S>(
  reducer: { initial(): S; evolve(state: S, event: DecodedEvent): S },
  events: object[],
): S {
  return events
    .map((event) => envelope(event))
    .reduce((state, event) => reducer.evolve(state, event), reducer.initial());
}
