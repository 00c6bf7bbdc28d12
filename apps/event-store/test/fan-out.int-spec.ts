/**
 * A writer is answered before the subscribers are told: with many subscriptions open on the
 * writer's own connection (as an API process has its projection, read models and audit relay), the
 * append's answer arrives ahead of the events it caused, so its latency never includes the fan-out.
 */
import { randomUUID } from 'node:crypto';

import { END, EventStoreDBClient, jsonEvent } from '@eventstore/db-client';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { eventually } from '../../../test/support/eventually.js';

const SUBSCRIPTIONS = 8;
const APPENDS = 20;

let server: EventStoreProcess;
let client: EventStoreDBClient;

beforeAll(async () => {
  server = await startEventStoreProcess();
  client = EventStoreDBClient.connectionString(server.connectionString);
});

afterAll(async () => {
  await client.dispose();
  await server.stop();
});

describe('an append with subscriptions open', () => {
  it('is answered before any subscription receives the event it wrote', async () => {
    const stream = `fan-out-${randomUUID()}`;
    const seen: string[] = [];
    const subscriptions = Array.from({ length: SUBSCRIPTIONS }, () => {
      const subscription = client.subscribeToAll({ fromPosition: END });
      subscription.on('data', (resolved: { event?: { streamId: string; type: string } }) => {
        if (resolved.event?.streamId === stream) seen.push(`delivered ${resolved.event.type}`);
      });
      return subscription;
    });
    // One event through every subscription first: all of them are open and live.
    await client.appendToStream(stream, jsonEvent({ type: 'Warm', data: {} }));
    await eventually('every subscription live', () => (seen.length === SUBSCRIPTIONS ? true : undefined));

    const firsts: string[] = [];
    for (let index = 0; index < APPENDS; index += 1) {
      seen.length = 0;
      await client.appendToStream(stream, jsonEvent({ type: `Tick${index}`, data: {} }));
      firsts.push(seen[0] ?? 'answered');
      await eventually(`Tick${index} delivered everywhere`, () =>
        seen.length === SUBSCRIPTIONS ? true : undefined,
      );
    }
    await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));

    expect(firsts).toEqual(Array.from({ length: APPENDS }, () => 'answered'));
  });
});
