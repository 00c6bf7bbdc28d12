/**
 * A subscriber that outlives the server: the subscription drops when the server is killed, and a
 * resubscription from the last position it processed receives everything after it exactly once,
 * including what was written while it was away.
 */
import { randomUUID } from 'node:crypto';

import {
  EventStoreDBClient,
  type AllStreamResolvedEvent,
  type Position,
  START,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { eventually } from '../../../test/support/eventually.js';

let server: EventStoreProcess;

beforeAll(async () => {
  server = await startEventStoreProcess();
});

afterAll(async () => {
  await server.stop();
});

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => jsonEvent({ type: 'Tick', data: { n: from + index } }));

describe('a subscription across a server restart', () => {
  it('resumes from its last position with no gap and no duplicate', async () => {
    const stream = `restart-${randomUUID()}`;
    const client = EventStoreDBClient.connectionString(server.connectionString);
    const received: number[] = [];
    let last: Position | typeof START = START;
    let dropped = 0;

    const subscribe = (): void => {
      const subscription = client.subscribeToAll({
        fromPosition: last,
        filter: streamNameFilter({ prefixes: [stream] }),
      });
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        received.push((resolved.event!.data as { n: number }).n);
        last = resolved.event!.position;
      });
      subscription.on('error', () => {
        dropped += 1;
        setTimeout(subscribe, 100);
      });
    };

    await client.appendToStream(stream, events(0, 5));
    subscribe();
    await eventually('the 5 events before the restart', () => (received.length === 5 ? true : undefined));

    await server.kill9();
    await server.restart();
    const writer = EventStoreDBClient.connectionString(server.connectionString);
    await writer.appendToStream(stream, events(5, 5));
    await eventually(
      '10 events, across the restart',
      () => (received.length >= 10 ? true : undefined),
      20_000,
    );
    await writer.appendToStream(stream, events(10, 2));
    await eventually('12 events, after the restart', () => (received.length >= 12 ? true : undefined));

    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(received).toEqual(Array.from({ length: 12 }, (_, index) => index));
    await writer.dispose();
    await client.dispose();
  }, 40_000);
});
