/**
 * `npm run bench:store`: the embedded event store as its own process, reached through the official
 * client over gRPC, as every Nimbus service reaches it. Measures single-event appends per second
 * with 1 and with 16 concurrent writers (each acknowledged only once durable), events per second
 * read from `$all`, the lag from append to delivery on a live `$all` subscription, and what one call
 * costs in CPU on each side, the client's process and the store's, for an append and for a read of one
 * event: a service pays that for every call it makes, whatever the call carries.
 * Each throughput figure is the median of several rounds in this run.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { END, EventStoreDBClient, START, jsonEvent } from '@eventstore/db-client';

import { startEventStoreProcess } from '../test/support/event-store-process.js';
import { sleep } from '../test/support/eventually.js';
import { cpuMsOf, median, percentile, report, round } from './support.js';

const ROUNDS = 3;
const APPENDS_ONE_WRITER = 1_500;
const APPENDS_PER_WRITER = 300;
const WRITERS = 16;
const READ_EVENTS = 100_000;
const LAG_SAMPLES = 2_000;
const CALLS = 2_000;

const payload = { instanceId: randomUUID(), host: 'host-1', flavor: { vcpus: 1, ramMb: 64, diskGb: 1 } };
const event = () =>
  jsonEvent({ type: 'BenchEvent', data: payload, metadata: { correlationId: randomUUID() } });

async function appendsPerSecond(
  client: EventStoreDBClient,
  writers: number,
  perWriter: number,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const stream = `bench-append-${writer}-${randomUUID()}`;
      for (let index = 0; index < perWriter; index += 1) {
        await client.appendToStream(stream, event(), {
          expectedRevision: index === 0 ? 'no_stream' : BigInt(index - 1),
        });
      }
    }),
  );
  return (writers * perWriter) / ((performance.now() - started) / 1000);
}

async function seed(client: EventStoreDBClient, total: number): Promise<void> {
  const batch = 500;
  for (let written = 0; written < total; written += batch) {
    await client.appendToStream(`bench-seed-${written}`, Array.from({ length: batch }, event));
  }
}

async function readAllPerSecond(client: EventStoreDBClient): Promise<{ perSecond: number; events: number }> {
  const started = performance.now();
  let events = 0;
  for await (const _ of client.readAll({ fromPosition: START, maxCount: Number.MAX_SAFE_INTEGER }))
    events += 1;
  return { perSecond: events / ((performance.now() - started) / 1000), events };
}

async function liveLag(client: EventStoreDBClient, writer: EventStoreDBClient): Promise<number[]> {
  const stream = `bench-lag-${randomUUID()}`;
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  const subscription = client.subscribeToAll({ fromPosition: END });
  await new Promise<void>((resolve) => subscription.once('caughtUp', () => resolve()));
  const done = (async () => {
    for await (const resolved of subscription) {
      const sent = resolved.event && sentAt.get(resolved.event.id);
      if (sent === undefined) continue;
      lags.push(performance.now() - sent);
      if (lags.length === LAG_SAMPLES) break;
    }
  })();
  for (let index = 0; index < LAG_SAMPLES; index += 1) {
    const next = event();
    sentAt.set(next.id, performance.now());
    await writer.appendToStream(stream, next);
    // A steady trickle rather than a flood: lag is about delivery, not queueing.
    if (index % 10 === 0) await sleep(2);
  }
  await done;
  await subscription.unsubscribe();
  return lags;
}

/** CPU per call, one call at a time, in this process (the client) and in the store, in ms. */
async function cpuPerCall(
  storePid: number,
  call: (index: number) => Promise<unknown>,
): Promise<{ client: number; store: number }> {
  const clientBefore = process.cpuUsage();
  const storeBefore = cpuMsOf(storePid);
  for (let index = 0; index < CALLS; index += 1) await call(index);
  const used = process.cpuUsage(clientBefore);
  return {
    client: (used.user + used.system) / 1000 / CALLS,
    store: (cpuMsOf(storePid) - storeBefore) / CALLS,
  };
}

async function main(): Promise<void> {
  const server = await startEventStoreProcess();
  const client = EventStoreDBClient.connectionString(server.connectionString);
  const writer = EventStoreDBClient.connectionString(server.connectionString);
  try {
    await appendsPerSecond(client, 4, 50); // warm up connections and the JIT

    const one: number[] = [];
    const sixteen: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      one.push(await appendsPerSecond(client, 1, APPENDS_ONE_WRITER));
      sixteen.push(await appendsPerSecond(client, WRITERS, APPENDS_PER_WRITER));
    }

    await seed(client, READ_EVENTS);
    const reads: number[] = [];
    let readEvents = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const result = await readAllPerSecond(client);
      reads.push(result.perSecond);
      readEvents = result.events;
    }

    const lags = await liveLag(client, writer);

    const streams = Array.from({ length: 10 }, () => `bench-call-${randomUUID()}`);
    const appendCost = await cpuPerCall(server.pid, (index) =>
      client.appendToStream(streams[index % streams.length]!, event()),
    );
    const readCost = await cpuPerCall(server.pid, async (index) => {
      for await (const _ of client.readStream(streams[index % streams.length]!, { maxCount: 1 })) {
        // one event
      }
    });

    const figures = {
      appendsPerSec1: round(median(one), 0),
      appendsPerSec16: round(median(sixteen), 0),
      readAllEventsPerSec: round(median(reads), 0),
      liveLagP50Ms: round(percentile(lags, 50), 3),
      liveLagP99Ms: round(percentile(lags, 99), 3),
      appendCpuMsClient: round(appendCost.client, 3),
      appendCpuMsStore: round(appendCost.store, 3),
      readCpuMsClient: round(readCost.client, 3),
      readCpuMsStore: round(readCost.store, 3),
    };
    report(
      'Embedded event store through @eventstore/db-client (median of rounds)',
      [
        [
          'single-event appends/s, 1 writer',
          figures.appendsPerSec1,
          `${ROUNDS} rounds x ${APPENDS_ONE_WRITER} appends`,
        ],
        [
          'single-event appends/s, 16 writers',
          figures.appendsPerSec16,
          `${ROUNDS} rounds x ${WRITERS} x ${APPENDS_PER_WRITER}`,
        ],
        ['$all read events/s', figures.readAllEventsPerSec, `${ROUNDS} rounds x ${readEvents} events`],
        ['live lag p50 (ms)', figures.liveLagP50Ms, `${LAG_SAMPLES} appends, append sent -> delivered`],
        ['live lag p99 (ms)', figures.liveLagP99Ms, ''],
        [
          'CPU per append, client / store (ms)',
          `${figures.appendCpuMsClient} / ${figures.appendCpuMsStore}`,
          `${CALLS} single-event appends, one at a time`,
        ],
        [
          'CPU per read of one event, client / store (ms)',
          `${figures.readCpuMsClient} / ${figures.readCpuMsStore}`,
          `${CALLS} stream reads, one at a time`,
        ],
      ],
      figures,
    );
  } finally {
    await client.dispose();
    await writer.dispose();
    await server.stop();
  }
}

await main();
