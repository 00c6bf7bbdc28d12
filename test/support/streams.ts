/** Small helpers for tests that read streams and wait for things to happen. */
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

/** Polls `probe` until it returns a value or the deadline passes. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
