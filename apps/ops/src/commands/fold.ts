/**
 * Folds a stream up to a point (a revision or a time) with the aggregate of its category: what
 * `ops state` prints and what `ops diff` compares.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';

import { type DomainReducer, FOLDED_CATEGORIES, reducerForStream } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { UsageError } from '../cli.js';
import { type HistoryEntry, readHistory } from '../reading.js';
import { type StreamPoint, isAtOrBefore } from '../stream-ref.js';

export interface StreamEvents {
  readonly reducer: DomainReducer;
  readonly events: readonly StoredEvent[];
}

/** A stream's valid events and its fold; null when the stream does not exist. */
export async function loadFoldable(client: EventStoreDBClient, stream: string): Promise<StreamEvents | null> {
  const reducer = reducerForStream(stream);
  if (!reducer)
    throw new UsageError(
      `no aggregate folds ${stream} (${FOLDED_CATEGORIES.map((category) => `${category}-`).join(', ')} streams do)`,
    );
  const entries = await readHistory(client, stream);
  if (entries === null) return null;
  const invalid = entries.find((entry): entry is Extract<HistoryEntry, { ok: false }> => !entry.ok);
  if (invalid)
    throw new Error(`cannot fold past an invalid event at ${stream}@${invalid.revision}: ${invalid.problem}`);
  return { reducer, events: entries.flatMap((entry) => (entry.ok ? [entry.event] : [])) };
}

export interface FoldedAt {
  readonly state: unknown;
  /** The last revision folded, null when the point is before the stream's first event. */
  readonly revision: bigint | null;
}

export function foldUpTo({ reducer, events }: StreamEvents, point: StreamPoint | null): FoldedAt {
  let state = reducer.initial();
  let revision: bigint | null = null;
  for (const event of events) {
    if (point && !isAtOrBefore(point, event.revision, event.metadata.occurredAt)) break;
    state = reducer.evolve(state, event);
    revision = event.revision;
  }
  return { state, revision };
}
