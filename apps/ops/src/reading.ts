/**
 * Reads the store for operators: a stream, or all of Nimbus's streams, each event with who caused it
 * and what led to it, validated as it is read. An event that fails its contract is shown as such,
 * never skipped or hidden. Streams that are not Nimbus's (system streams, checkpoints) are left out.
 */
import { type EventStoreDBClient, START, StreamNotFoundError } from '@eventstore/db-client';

import { categoryPart, isStreamCategory } from '#libs/contracts';
import { type StoredEvent, decodeStored } from '#libs/event-store';

export type HistoryEntry =
  | { readonly ok: true; readonly event: StoredEvent }
  | {
      readonly ok: false;
      readonly stream: string;
      readonly revision: bigint;
      readonly type: string;
      readonly problem: string;
    };

interface Recorded {
  readonly id: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: { commit: bigint; prepare: bigint };
}

function entryOf(recorded: Recorded): HistoryEntry {
  try {
    return { ok: true, event: decodeStored(recorded) };
  } catch (error) {
    return {
      ok: false,
      stream: recorded.streamId,
      revision: recorded.revision,
      type: recorded.type,
      problem: (error as Error).message,
    };
  }
}

/** Every event of one stream, oldest first; null when the stream does not exist. */
export async function readHistory(
  client: EventStoreDBClient,
  stream: string,
): Promise<HistoryEntry[] | null> {
  const entries: HistoryEntry[] = [];
  try {
    for await (const resolved of client.readStream(stream)) {
      if (resolved.event) entries.push(entryOf(resolved.event));
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError) return null;
    throw error;
  }
  return entries;
}

/** Whether a stream is one of Nimbus's domain streams (`<category>-<id>` for a known category). */
export function isDomainStream(stream: string): boolean {
  return stream.includes('-') && isStreamCategory(categoryPart(stream));
}

/** Every event of Nimbus's streams in `$all` order, as a stream of entries. */
export async function* readEverything(client: EventStoreDBClient): AsyncGenerator<HistoryEntry> {
  for await (const resolved of client.readAll({ fromPosition: START, direction: 'forwards' })) {
    const recorded = resolved.event as Recorded | undefined;
    if (recorded && isDomainStream(recorded.streamId)) yield entryOf(recorded);
  }
}

/** A one-line digest of an event's payload for tables; the full payload is in `--json`. */
export function summarize(data: object): string {
  const text = JSON.stringify(data);
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}

/** `kind:user@project`, the actor as a table shows it. */
export function actorOf(event: StoredEvent): string {
  const { actor } = event.metadata;
  return `${actor.kind}:${actor.userId}${actor.projectId ? `@${actor.projectId}` : ''}`;
}
