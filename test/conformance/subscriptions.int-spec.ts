/**
 * Conformance: catch-up subscriptions to a stream and to `$all`: history then live with the
 * caught-up signal between, exclusive starting points, server-side filters with checkpoints, and a
 * hand-off from history to live with no gap and no duplicate while writers keep appending.
 */
import {
  END,
  START,
  type AllStreamResolvedEvent,
  type Position,
  type ResolvedEvent,
  StreamDeletedError,
  eventTypeFilter,
  streamNameFilter,
} from '@eventstore/db-client';

import { type ConformanceTarget, conformanceTarget } from '../support/conformance-target.js';
import { eventually, sleep } from '../support/eventually.js';
import { numbered } from '../support/streams.js';

let target: ConformanceTarget;

beforeAll(async () => {
  target = await conformanceTarget();
});

afterAll(async () => {
  await target.close();
});

interface Watched<E> {
  readonly events: E[];
  readonly caughtUpAfter: () => number | null;
  readonly error: () => unknown;
  stop(): Promise<void>;
}

/** Subscribes and records what arrives, and how many events had arrived when caughtUp came. */
function watch<E extends ResolvedEvent | AllStreamResolvedEvent>(
  subscription: AsyncIterable<E> & NodeJS.EventEmitter & { unsubscribe(): Promise<void> },
): Watched<E> {
  const events: E[] = [];
  let caughtUpAfter: number | null = null;
  let failure: unknown = null;
  subscription.on('caughtUp', () => {
    caughtUpAfter ??= events.length;
  });
  subscription.on('data', (event: E) => events.push(event));
  subscription.on('error', (error: unknown) => {
    failure = error;
  });
  return {
    events,
    caughtUpAfter: () => caughtUpAfter,
    error: () => failure,
    stop: () => subscription.unsubscribe(),
  };
}

const revisions = (events: ResolvedEvent[]): (bigint | undefined)[] =>
  events.map((resolved) => resolved.event?.revision);

describe('subscribeToStream', () => {
  it('delivers history, signals caught-up, then delivers live events', async () => {
    const stream = target.stream('sub-history');
    await target.client.appendToStream(stream, numbered(3));

    const watched = watch(target.client.subscribeToStream(stream, { fromRevision: START }));
    await eventually('the caught-up signal', () => watched.caughtUpAfter() ?? undefined);
    await target.client.appendToStream(stream, numbered(2, 3));
    await eventually('5 events delivered', () => (watched.events.length === 5 ? true : undefined));
    await watched.stop();

    expect(watched.caughtUpAfter()).toBe(3);
    expect(revisions(watched.events)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it('starts after the given revision', async () => {
    const stream = target.stream('sub-after');
    await target.client.appendToStream(stream, numbered(5));

    const watched = watch(target.client.subscribeToStream(stream, { fromRevision: 2n }));
    await eventually('2 events delivered', () => (watched.events.length === 2 ? true : undefined));
    await watched.stop();

    expect(revisions(watched.events)).toEqual([3n, 4n]);
  });

  it('from the end delivers only what is appended later', async () => {
    const stream = target.stream('sub-end');
    await target.client.appendToStream(stream, numbered(3));

    const watched = watch(target.client.subscribeToStream(stream, { fromRevision: END }));
    await eventually('the caught-up signal', () => (watched.caughtUpAfter() === null ? undefined : true));
    await target.client.appendToStream(stream, numbered(1, 3));
    await eventually('1 event delivered', () => (watched.events.length === 1 ? true : undefined));
    await watched.stop();

    expect(revisions(watched.events)).toEqual([3n]);
  });

  it('waits for a stream that does not exist yet', async () => {
    const stream = target.stream('sub-later');
    const watched = watch(target.client.subscribeToStream(stream));
    await eventually('the caught-up signal', () => (watched.caughtUpAfter() === null ? undefined : true));

    await target.client.appendToStream(stream, numbered(2));
    await eventually('2 events delivered', () => (watched.events.length === 2 ? true : undefined));
    await watched.stop();

    expect(revisions(watched.events)).toEqual([0n, 1n]);
  });

  it('ends with StreamDeletedError when the stream is tombstoned', async () => {
    const stream = target.stream('sub-tomb');
    await target.client.appendToStream(stream, numbered(1));
    const watched = watch(target.client.subscribeToStream(stream));
    await eventually('1 event delivered', () => (watched.events.length === 1 ? true : undefined));

    await target.client.tombstoneStream(stream);

    const error = await eventually(
      'the subscription to report its error',
      () => watched.error() ?? undefined,
    );
    expect(error).toBeInstanceOf(StreamDeletedError);
  });

  it('hands off from history to live with no gap and no duplicate while writers append', async () => {
    const stream = target.stream('sub-handoff');
    for (let batch = 0; batch < 10; batch += 1)
      await target.client.appendToStream(stream, numbered(50, batch * 50));

    const watched = watch(target.client.subscribeToStream(stream, { fromRevision: START }));
    for (let batch = 10; batch < 20; batch += 1)
      await target.client.appendToStream(stream, numbered(50, batch * 50));
    await eventually(
      'at least 1000 events delivered',
      () => (watched.events.length >= 1000 ? true : undefined),
      20_000,
    );
    await sleep(100);
    await watched.stop();

    expect(revisions(watched.events)).toEqual(Array.from({ length: 1000 }, (_, index) => BigInt(index)));
  });
});

describe('subscribeToAll', () => {
  it('delivers only the streams a prefix filter names, in commit order', async () => {
    const prefix = target.stream('pfx');
    const wanted = `${prefix}-wanted`;
    const other = target.stream('unwanted');

    const watched = watch(
      target.client.subscribeToAll({ fromPosition: END, filter: streamNameFilter({ prefixes: [prefix] }) }),
    );
    await eventually('the caught-up signal', () => (watched.caughtUpAfter() === null ? undefined : true));
    await target.client.appendToStream(other, numbered(2));
    await target.client.appendToStream(wanted, numbered(3));
    await eventually('3 events delivered', () => (watched.events.length === 3 ? true : undefined));
    await watched.stop();

    expect(watched.events.map((resolved) => resolved.event?.streamId)).toEqual([wanted, wanted, wanted]);
    const positions = watched.events.map((resolved) => resolved.event!.position.commit);
    expect(positions[0]! < positions[1]! && positions[1]! < positions[2]!).toBe(true);
  });

  it('filters by event type with a regular expression', async () => {
    const stream = target.stream('by-type');
    const type = `Kind${target.stream('t').replaceAll(/[^a-zA-Z0-9]/g, '')}`;
    const watched = watch(
      target.client.subscribeToAll({ fromPosition: END, filter: eventTypeFilter({ regex: `^${type}$` }) }),
    );
    await eventually('the caught-up signal', () => (watched.caughtUpAfter() === null ? undefined : true));

    await target.client.appendToStream(stream, [...numbered(2), ...numbered(1, 2, type), ...numbered(1, 3)]);
    await eventually('1 event delivered', () => (watched.events.length === 1 ? true : undefined));
    await sleep(100);
    await watched.stop();

    expect(watched.events.map((resolved) => resolved.event?.type)).toEqual([type]);
  });

  it('reports checkpoints past events that did not match, so a consumer can advance', async () => {
    const checkpoints: Position[] = [];
    const watched = watch(
      target.client.subscribeToAll({
        fromPosition: END,
        filter: streamNameFilter({
          prefixes: [target.stream('matches-nothing')],
          maxSearchWindow: 1,
          checkpointInterval: 1,
          checkpointReached: (_subscription, position) => {
            checkpoints.push(position);
          },
        }),
      }),
    );
    await eventually('the caught-up signal', () => (watched.caughtUpAfter() === null ? undefined : true));

    const result = await target.client.appendToStream(target.stream('noise'), numbered(5));
    const reached = await eventually('a checkpoint at or past the appended noise', () =>
      checkpoints.find((checkpoint) => checkpoint.commit >= result.position!.commit),
    );
    await watched.stop();

    expect(watched.events).toEqual([]);
    expect(reached.commit).toBeGreaterThanOrEqual(result.position!.commit);
  });

  it('resumes after a position, that position excluded', async () => {
    const stream = target.stream('all-resume');
    await target.client.appendToStream(stream, numbered(1));
    const second = await target.client.appendToStream(stream, numbered(1, 1));
    await target.client.appendToStream(stream, numbered(1, 2));

    const watched = watch(
      target.client.subscribeToAll({
        fromPosition: second.position!,
        filter: streamNameFilter({ prefixes: [stream] }),
      }),
    );
    await eventually('1 event delivered', () => (watched.events.length === 1 ? true : undefined));
    await sleep(100);
    await watched.stop();

    expect(watched.events.map((resolved) => resolved.event?.data)).toEqual([{ n: 2 }]);
  });
});
