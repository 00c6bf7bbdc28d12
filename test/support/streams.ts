/** Small helpers for tests that read streams and write numbered events (waiting is in eventually.ts). */
import { randomUUID } from 'node:crypto';

import { type JSONEventType, jsonEvent } from '@eventstore/db-client';

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

export type Numbered = JSONEventType<'Numbered', { n: number }, { source: string }>;

/** `count` JSON events numbered from `first`, each with a fresh id. */
export function numbered(count: number, first = 0, type = 'Numbered') {
  return Array.from({ length: count }, (_, index) =>
    jsonEvent<Numbered>({
      id: randomUUID(),
      type: type as 'Numbered',
      data: { n: first + index },
      metadata: { source: 'conformance' },
    }),
  );
}
