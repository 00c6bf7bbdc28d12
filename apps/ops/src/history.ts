/**
 * Reads a stream for operators: every event with who caused it and what led to it, validated as it
 * is read. An event that fails its contract is shown as such, never skipped or hidden.
 */
import { type EventStoreDBClient, StreamNotFoundError } from '@eventstore/db-client';

import { type StoredEvent, decodeStored } from '#libs/event-store';

export type HistoryEntry =
  | { readonly ok: true; readonly event: StoredEvent }
  | { readonly ok: false; readonly revision: bigint; readonly type: string; readonly problem: string };

export async function readHistory(
  client: EventStoreDBClient,
  stream: string,
): Promise<HistoryEntry[] | null> {
  const entries: HistoryEntry[] = [];
  try {
    for await (const resolved of client.readStream(stream)) {
      const recorded = resolved.event;
      if (!recorded) continue;
      try {
        entries.push({ ok: true, event: decodeStored(recorded) });
      } catch (error) {
        entries.push({
          ok: false,
          revision: recorded.revision,
          type: recorded.type,
          problem: (error as Error).message,
        });
      }
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError) return null;
    throw error;
  }
  return entries;
}

/** A one-line digest of an event's payload for the table; the full payload is in `--json`. */
export function summarize(data: object): string {
  const text = JSON.stringify(data);
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}
