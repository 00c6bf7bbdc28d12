/**
 * Conformance: reading a stream and `$all`, forwards and backwards, from the ends, from a revision
 * or a position, with a count, and a missing stream.
 */
import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type ResolvedEvent,
} from '@eventstore/db-client';

import { type ConformanceTarget, conformanceTarget } from '../support/conformance-target.js';
import { collect, numbered } from '../support/streams.js';

let target: ConformanceTarget;
let stream: string;
let written: ReturnType<typeof numbered>;

beforeAll(async () => {
  target = await conformanceTarget();
  stream = target.stream('read');
  written = numbered(10);
  await target.client.appendToStream(stream, written);
});

afterAll(async () => {
  await target.close();
});

const revisions = (events: ResolvedEvent[]): (bigint | undefined)[] =>
  events.map((resolved) => resolved.event?.revision);

describe('readStream', () => {
  it('returns every event forwards with its id, type, data, metadata and creation time', async () => {
    const events = await collect(target.client.readStream(stream));

    expect(revisions(events)).toEqual(Array.from({ length: 10 }, (_, index) => BigInt(index)));
    const first = events[0]!.event!;
    expect(first.id).toBe(written[0]!.id);
    expect(first.type).toBe('Numbered');
    expect(first.streamId).toBe(stream);
    expect(first.data).toEqual({ n: 0 });
    expect(first.metadata).toEqual({ source: 'conformance' });
    expect(Math.abs(new Date(first.created).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('reads backwards from the end with a count', async () => {
    const events = await collect(
      target.client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 3 }),
    );
    expect(revisions(events)).toEqual([9n, 8n, 7n]);
  });

  it('reads forwards from a revision, that revision included', async () => {
    const events = await collect(target.client.readStream(stream, { fromRevision: 4n, maxCount: 2 }));
    expect(revisions(events)).toEqual([4n, 5n]);
  });

  it('reads backwards from a revision, that revision included', async () => {
    const events = await collect(
      target.client.readStream(stream, { direction: BACKWARDS, fromRevision: 4n }),
    );
    expect(revisions(events)).toEqual([4n, 3n, 2n, 1n, 0n]);
  });

  it('returns nothing reading forwards from the end', async () => {
    expect(await collect(target.client.readStream(stream, { fromRevision: END }))).toEqual([]);
  });

  it('reports a stream that was never written as not found', async () => {
    const missing = target.stream('never-written');
    const error = await collect(target.client.readStream(missing)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StreamNotFoundError);
    expect((error as StreamNotFoundError).streamName).toBe(missing);
  });
});

describe('readAll', () => {
  const ours = (events: ResolvedEvent[]): ResolvedEvent[] =>
    events.filter((resolved) => resolved.event?.streamId === stream);

  it('holds the stream events in commit order with increasing positions', async () => {
    const events = ours(await collect(target.client.readAll({ direction: FORWARDS, fromPosition: START })));

    expect(revisions(events)).toEqual(Array.from({ length: 10 }, (_, index) => BigInt(index)));
    const positions = events.map((resolved) => resolved.event!.position!.commit);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('reads backwards from the end, newest first', async () => {
    const events = ours(
      await collect(target.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1000 })),
    );
    expect(revisions(events).slice(0, 3)).toEqual([9n, 8n, 7n]);
  });

  it('reads forwards from a position, the event at that position first', async () => {
    const all = ours(await collect(target.client.readAll()));
    const third = all[2]!.event!;

    const [first] = await collect(target.client.readAll({ fromPosition: third.position!, maxCount: 1 }));
    expect(first?.event?.id).toBe(third.id);
  });

  it('reads backwards from a position, starting before it', async () => {
    const all = ours(await collect(target.client.readAll()));
    const third = all[2]!.event!;

    const before = ours(
      await collect(
        target.client.readAll({ direction: BACKWARDS, fromPosition: third.position!, maxCount: 1000 }),
      ),
    );
    expect(revisions(before).slice(0, 2)).toEqual([1n, 0n]);
  });

  it('honours the count', async () => {
    expect(await collect(target.client.readAll({ maxCount: 4 }))).toHaveLength(4);
  });
});
