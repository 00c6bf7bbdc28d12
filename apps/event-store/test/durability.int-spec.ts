/**
 * The embedded server under fire: writers append with acknowledgements while the server is killed
 * with SIGKILL and restarted, again and again. Every acknowledged event must be read back, in the
 * order it was acknowledged, exactly once; a retried write (same event id) must not be doubled.
 */
import { randomUUID } from 'node:crypto';

import { ANY, EventStoreDBClient, jsonEvent } from '@eventstore/db-client';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { sleep } from '../../../test/support/eventually.js';
import { collect } from '../../../test/support/streams.js';

const WRITERS = 4;
const KILLS = 4;

let server: EventStoreProcess;

beforeAll(async () => {
  server = await startEventStoreProcess();
});

afterAll(async () => {
  await server.stop();
});

interface Writer {
  readonly stream: string;
  readonly acknowledged: string[];
  attempted: number;
}

/** Appends one event at a time; a failed append is retried with the same event until acknowledged. */
async function write(client: EventStoreDBClient, writer: Writer, until: () => boolean): Promise<void> {
  let sequence = 0;
  while (!until()) {
    const event = jsonEvent({ id: randomUUID(), type: 'Written', data: { sequence } });
    for (;;) {
      writer.attempted += 1;
      try {
        await client.appendToStream(writer.stream, event, { expectedRevision: ANY, deadline: 2_000 });
        writer.acknowledged.push(event.id);
        break;
      } catch {
        await sleep(25);
      }
    }
    sequence += 1;
  }
}

describe('embedded event store under kill -9', () => {
  it('keeps every acknowledged event, in order, exactly once, across repeated SIGKILL and restart', async () => {
    const client = EventStoreDBClient.connectionString(server.connectionString);
    const writers: Writer[] = Array.from({ length: WRITERS }, (_, index) => ({
      stream: `durability-${index}-${randomUUID()}`,
      acknowledged: [],
      attempted: 0,
    }));
    let killing = true;
    const writing = Promise.all(writers.map((writer) => write(client, writer, () => !killing)));

    for (let kill = 0; kill < KILLS; kill += 1) {
      await sleep(400 + Math.floor(Math.random() * 400));
      await server.kill9();
      await sleep(100);
      await server.restart();
    }
    await sleep(400);
    killing = false;
    await writing;

    for (const writer of writers) {
      const stored = await collect(client.readStream(writer.stream));
      const ids = stored.map((resolved) => resolved.event!.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Acknowledged events appear in acknowledgement order; at most one unacknowledged write
      // (the one in flight at a kill, retried) can sit between them, never a duplicate.
      const acknowledgedInStore = ids.filter((id) => writer.acknowledged.includes(id));
      expect(acknowledgedInStore).toEqual(writer.acknowledged);
      expect(writer.acknowledged.length).toBeGreaterThan(20);
    }
    const retried = writers.reduce(
      (total, writer) => total + writer.attempted - writer.acknowledged.length,
      0,
    );
    expect(retried).toBeGreaterThan(0);
    await client.dispose();
  }, 60_000);
});
