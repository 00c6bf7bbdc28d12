/**
 * `npm run bench:ops [-- --instances N]`: what operators and subscribers wait for.
 * - Rebuild: N servers' histories (10 events each: boot, stop, start, reboot, rename) are in the
 *   embedded store, read by a running API; `POST /nimbus/v1/read-models/servers/rebuild` (what
 *   `ops rebuild servers` calls) rebuilds the server list from zero while a client keeps listing
 *   servers. Prints the rebuild's time and events/s, the list latency during it, and, when N is not
 *   100,000, the time for 100,000 servers at the measured rate (marked as scaled).
 * - Delivery lag: an audit feed (`GET /audit/v1/events`) and a servers watch (`GET /v2.1/servers/watch`)
 *   follow the store while boots are appended one at a time; each lag is from the moment the append
 *   was acknowledged to the moment the event arrived at the client (0 when it arrived first).
 * - Last, each step of a rebuild alone, per event, over the store's first 200,000 events: the `$all`
 *   read, the contract check, the page's transaction, in wall time and in CPU time (the reader's and,
 *   for the read, the store process's), and from the CPU times the floor of a 1,000,000-event
 *   rebuild on this machine's cores.
 * Prints a table and, last, one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { EventStoreDBClient, START, jsonEvent } from '@eventstore/db-client';

import {
  BootRequested,
  DomainRebooted,
  DomainStarted,
  DomainStopped,
  HostSelected,
  RebootRequested,
  ServerUpdated,
  StartRequested,
  StopRequested,
  build,
  streamFor,
} from '#libs/contracts';
import { type EventContext, EventStore, decodeStored } from '#libs/event-store';

import { ServerTable } from '../apps/api/src/compute/servers/projection/server-table.js';
import { eventually } from '../test/support/eventually.js';
import { startEventStoreProcess } from '../test/support/event-store-process.js';
import { percentile, report, round, startBenchApi } from './support.js';

const TARGET_INSTANCES = 100_000;
/** Events a rebuild applies in one transaction (as the API does). */
const PAGE = 2_000;
const LAG_SAMPLES = 200;
/** Events the per-step measurement reads, decodes and applies (the first of the store). */
const STEP_SAMPLE = 200_000;
/** Appends in flight while seeding. */
const SEED_CONCURRENCY = 64;
/** µs in a second. */
const US_PER_SECOND = 1_000_000;

function options(): { instances: number } {
  let values;
  try {
    ({ values } = parseArgs({ options: { instances: { type: 'string' } }, strict: true }));
  } catch (error) {
    return usage((error as Error).message);
  }
  const instances = Number(values.instances ?? TARGET_INSTANCES);
  if (!Number.isInteger(instances) || instances < 100 || instances > 1_000_000)
    return usage(`--instances must be a whole number from 100 to 1000000, got ${values.instances ?? ''}`);
  return { instances };
}

function usage(problem: string): never {
  process.stderr.write(`bench:ops: ${problem}\nusage: npm run bench:ops [-- --instances N]\n`);
  process.exit(2);
}

/** One server's history as the services write it, each event caused by the one before. */
function lifecycle(instanceId: string, projectId: string, userId: string, index: number): object[] {
  const host = 'hv-1';
  return [
    build(BootRequested, {
      instanceId,
      projectId,
      userId,
      name: `ops-${index}`,
      flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
      image: { id: '5b0c5c2a-3f5c-4d2a-9a43-7d2f8d1b1e01', name: 'boot', properties: {} },
      metadata: {},
      requestedNetworks: 'none',
    }),
    build(HostSelected, {
      instanceId,
      attempt: 1,
      host,
      alternates: [],
      trace: { hostsIn: 1, filters: [], weighed: [] },
    }),
    build(DomainStarted, { instanceId, host, domainName: `nimbus-${instanceId}`, reason: 'boot' }),
    build(StopRequested, { instanceId }),
    build(DomainStopped, { instanceId, host, forced: false }),
    build(StartRequested, { instanceId }),
    build(DomainStarted, { instanceId, host, domainName: `nimbus-${instanceId}`, reason: 'start' }),
    build(RebootRequested, { instanceId, type: 'SOFT' }),
    build(DomainRebooted, { instanceId, host, type: 'SOFT' }),
    build(ServerUpdated, { instanceId, name: `ops-${index}-renamed` }),
  ];
}

/**
 * Writes `count` histories fast: the first through the store layer (contracts checked), the others as
 * copies of its stored form with their own ids, appended straight through the client.
 */
async function seed(store: EventStore, count: number, context: EventContext): Promise<number> {
  const template = randomUUID();
  const { projectId, userId } = context.actor as { projectId: string; userId: string };
  await store.append(
    streamFor('instance', template),
    lifecycle(template, projectId, userId, 0),
    'no_stream',
    context,
  );
  const stored: { type: string; data: string; metadata: string }[] = [];
  for await (const resolved of store.client.readStream(streamFor('instance', template))) {
    const event = resolved.event!;
    stored.push({
      type: event.type,
      data: JSON.stringify(event.data),
      metadata: JSON.stringify(event.metadata),
    });
  }
  let events = stored.length;
  let next = 1;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < count) {
        const index = next++;
        const instanceId = randomUUID();
        const copies = stored.map((event) => ({
          ...event,
          id: randomUUID(),
          data: event.data.replaceAll(template, instanceId).replaceAll('ops-0', `ops-${index}`),
        }));
        await store.client.appendToStream(
          streamFor('instance', instanceId),
          copies.map((event, position) =>
            jsonEvent({
              id: event.id,
              type: event.type,
              data: JSON.parse(event.data) as Record<string, unknown>,
              metadata: {
                ...(JSON.parse(event.metadata) as Record<string, unknown>),
                eventId: event.id,
                causationId: position === 0 ? null : copies[position - 1]!.id,
              },
            }),
          ),
          { expectedRevision: 'no_stream' },
        );
        events += copies.length;
      }
    }),
  );
  return events;
}

/** Reads a JSON Lines response as it comes, handing each line to `onLine`; resolves when it ends. */
async function follow(response: Response, onLine: (line: Record<string, unknown>) => void): Promise<void> {
  let buffered = '';
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(JSON.parse(line) as Record<string, unknown>);
  }
}

/** This process's CPU time so far (user + system, every thread), in µs. */
function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Clock ticks a second: the unit of the CPU times in /proc/<pid>/stat. */
function clockTicksPerSecond(): number {
  return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
}

/** Another process's CPU time so far (utime + stime in /proc/<pid>/stat, every thread), in µs. */
function processCpuUs(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (in parentheses, maybe with spaces): utime and stime are the
  // 14th and 15th of the line, the 12th and 13th after the name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * US_PER_SECOND) / ticksPerSecond;
}

/** Runs `step` once: its result, its wall time and this process's CPU time during it, both in µs. */
async function measured<T>(
  step: () => T | Promise<T>,
): Promise<{ result: T; wallUs: number; cpuUs: number }> {
  const cpuAt = ownCpuUs();
  const at = performance.now();
  const result = await step();
  const wallUs = (performance.now() - at) * 1000;
  return { result, wallUs, cpuUs: ownCpuUs() - cpuAt };
}

interface PerEvent {
  /** Wall time, µs per event. */
  readonly readUs: number;
  readonly contractUs: number;
  readonly applyUs: number;
  /** CPU time (user + system), µs per event: this process's for each step, the store's for the read. */
  readonly readClientCpuUs: number;
  readonly readStoreCpuUs: number;
  readonly contractCpuUs: number;
  readonly applyCpuUs: number;
}

/**
 * The rebuild's steps one at a time in this process, per event, over the store's first STEP_SAMPLE
 * events: reading `$all` through the official client, checking each event's contract (decodeStored),
 * and applying pages of them to a fresh server table (one transaction a page). Each step's wall time
 * and this process's CPU time; for the read, also the CPU time of the store process `storePid`.
 */
async function whereTheTimeGoes(client: EventStoreDBClient, storePid: number): Promise<PerEvent> {
  const ticksPerSecond = clockTicksPerSecond();
  const storeCpuAt = processCpuUs(storePid, ticksPerSecond);
  const read = await measured(async () => {
    const recorded = [];
    for await (const resolved of client.readAll({ fromPosition: START, maxCount: STEP_SAMPLE }))
      if (resolved.event?.streamId.startsWith('instance-')) recorded.push(resolved.event);
    return recorded;
  });
  const readStoreCpuUs = processCpuUs(storePid, ticksPerSecond) - storeCpuAt;
  const contract = await measured(() => read.result.map((event) => decodeStored(event)));
  const decoded = contract.result;
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-table-'));
  try {
    const table = new ServerTable(join(dir, 'servers.sqlite'), 'bench', () => undefined);
    const apply = await measured(() => {
      for (let index = 0; index < decoded.length; index += PAGE)
        table.applyAll(decoded.slice(index, index + PAGE));
    });
    table.close();
    const us = (total: number): number => round(total / decoded.length, 1);
    return {
      readUs: us(read.wallUs),
      contractUs: us(contract.wallUs),
      applyUs: us(apply.wallUs),
      readClientCpuUs: us(read.cpuUs),
      readStoreCpuUs: us(readStoreCpuUs),
      contractCpuUs: us(contract.cpuUs),
      applyCpuUs: us(apply.cpuUs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { instances } = options();
  const eventStore = await startEventStoreProcess();
  const parts: { stop(): Promise<void> }[] = [eventStore];
  const client = EventStoreDBClient.connectionString(eventStore.connectionString);
  const cut = new AbortController();
  try {
    const api = await startBenchApi(eventStore.connectionString);
    parts.push(api);
    const { url: apiUrl, admin } = api;
    const token = { user: { id: api.adminUserId }, project: { id: api.adminProjectId } };
    const context: EventContext = {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: token.user.id, projectId: token.project.id, kind: 'user' },
    };
    const store = new EventStore(client);

    // Seed while the API follows, so the live read model is current before the rebuild starts.
    process.stderr.write(`bench:ops: writing ${instances} servers' histories\n`);
    const seeding = performance.now();
    const events = await seed(store, instances, context);
    const seedSeconds = (performance.now() - seeding) / 1000;
    await eventually(
      'the live read model to hold the last server',
      async () => {
        const page = await admin.compute<{ servers: unknown[] }>(
          'GET',
          `/servers?name=^ops-${instances - 1}-renamed$`,
        );
        return page.body.servers.length === 1 ? true : undefined;
      },
      { timeoutMs: 1_800_000, intervalMs: 500 },
    );

    // The rebuild, with a client listing servers all along.
    process.stderr.write(`bench:ops: rebuilding the server read model from ${events} events\n`);
    const rebuilding = new AbortController();
    const listLatencies: number[] = [];
    let listFailures = 0;
    const lister = (async () => {
      while (!rebuilding.signal.aborted) {
        const at = performance.now();
        const reply = await admin.compute<{ servers: unknown[] }>('GET', '/servers?limit=100');
        listLatencies.push(performance.now() - at);
        if (reply.status !== 200 || reply.body.servers.length !== 100) listFailures += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = performance.now();
    const response = await fetch(`${apiUrl}/nimbus/v1/read-models/servers/rebuild`, {
      method: 'POST',
      headers: { 'X-Auth-Token': admin.token },
    });
    if (response.status !== 200) throw new Error(`the rebuild was refused: ${response.status}`);
    let last: Record<string, unknown> = {};
    await follow(response, (line) => {
      last = line;
      if (line['done'] !== true) process.stderr.write(`bench:ops: ${JSON.stringify(line)}\n`);
    });
    const rebuildSeconds = (performance.now() - started) / 1000;
    rebuilding.abort();
    await lister;
    if (last['done'] !== true) throw new Error(`the rebuild did not finish: ${JSON.stringify(last)}`);
    const rebuilt = Number(last['events']);
    const rebuildEventsPerSec = rebuilt / rebuildSeconds;
    const rebuild100kInstancesS =
      instances === TARGET_INSTANCES ? rebuildSeconds : (rebuildSeconds * TARGET_INSTANCES) / instances;

    // Delivery lag: a feed and a watch open, then boots appended one at a time.
    const auditArrivals = new Map<string, number>();
    const watchArrivals = new Map<string, number>();
    const since = encodeURIComponent(new Date().toISOString());
    const feed = await fetch(`${apiUrl}/audit/v1/events?since=${since}&all_projects=true`, {
      headers: { 'X-Auth-Token': admin.token },
      signal: cut.signal,
    });
    const watch = await fetch(`${apiUrl}/v2.1/servers/watch`, {
      headers: { 'X-Auth-Token': admin.token },
      signal: cut.signal,
    });
    if (feed.status !== 200 || watch.status !== 200)
      throw new Error(`feed ${feed.status}, watch ${watch.status}`);
    const following = [
      follow(feed, (event) => auditArrivals.set(String(event['subject']), performance.now())),
      follow(watch, (change) => {
        const server = (change['object'] as { server?: { id: string } } | undefined)?.server;
        if (change['type'] === 'ADDED' && server)
          watchArrivals.set(`instance-${server.id}`, performance.now());
      }),
    ].map((reading) => reading.catch(() => undefined));
    // The watch lists every live server first: the samples start once both deliver a first boot.
    const appended = new Map<string, number>();
    for (let index = -1; index < LAG_SAMPLES; index += 1) {
      const instanceId = randomUUID();
      const stream = streamFor('instance', instanceId);
      const [boot] = lifecycle(instanceId, token.project.id, token.user.id, instances + index);
      await store.append(stream, [boot!], 'no_stream', context);
      if (index < 0) {
        await eventually(
          'the first boot on the feed and the watch',
          () => (auditArrivals.has(stream) && watchArrivals.has(stream) ? true : undefined),
          { timeoutMs: 60_000 },
        );
        continue;
      }
      appended.set(stream, performance.now());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await eventually(
      'every sample on the feed and the watch',
      () =>
        [...appended.keys()].every((stream) => auditArrivals.has(stream) && watchArrivals.has(stream))
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    cut.abort();
    await Promise.all(following);
    const lags = (arrivals: Map<string, number>): number[] =>
      [...appended].map(([stream, at]) => Math.max(0, arrivals.get(stream)! - at));
    const audit = lags(auditArrivals);
    const watched = lags(watchArrivals);
    // Last: it holds the event loop for seconds, which would break the idle keep-alive sockets above.
    const perEvent = await whereTheTimeGoes(client, eventStore.pid);
    // The CPU a rebuild of 1,000,000 events needs, spread over every core: no rebuild on this machine
    // with these parts can be faster.
    const cores = availableParallelism();
    const cpuPerEventUs =
      perEvent.readClientCpuUs + perEvent.readStoreCpuUs + perEvent.contractCpuUs + perEvent.applyCpuUs;
    const cpuFloor1MEventsS = (cpuPerEventUs * 1_000_000) / US_PER_SECOND / cores;

    const figures = {
      instances,
      events: rebuilt,
      rebuildSeconds: round(rebuildSeconds, 1),
      rebuildEventsPerSec: round(rebuildEventsPerSec, 0),
      rebuild100kInstancesS: round(rebuild100kInstancesS, 1),
      rebuild100kScaled: instances !== TARGET_INSTANCES,
      listDuringRebuildP50Ms: round(percentile(listLatencies, 50), 2),
      listDuringRebuildP99Ms: round(percentile(listLatencies, 99), 2),
      listDuringRebuildFailures: listFailures,
      readUsPerEvent: perEvent.readUs,
      contractUsPerEvent: perEvent.contractUs,
      applyUsPerEvent: perEvent.applyUs,
      readClientCpuUsPerEvent: perEvent.readClientCpuUs,
      readStoreCpuUsPerEvent: perEvent.readStoreCpuUs,
      contractCpuUsPerEvent: perEvent.contractCpuUs,
      applyCpuUsPerEvent: perEvent.applyCpuUs,
      cpuFloor1MEventsS: round(cpuFloor1MEventsS, 1),
      cores,
      auditLagP50Ms: round(percentile(audit, 50), 2),
      auditLagP99Ms: round(percentile(audit, 99), 2),
      watchLagP50Ms: round(percentile(watched, 50), 2),
      watchLagP99Ms: round(percentile(watched, 99), 2),
    };
    report(
      `Operators' rebuild and subscribers' lag (API process + embedded store, loopback)`,
      [
        ['seed', `${events} events`, `${instances} servers x 10 events in ${round(seedSeconds, 1)} s`],
        [
          'rebuild of the server list',
          `${figures.rebuildSeconds} s`,
          `${figures.rebuildEventsPerSec} events/s; target for 100,000 servers: <= 20 s`,
        ],
        [
          'rebuild, 100,000 servers',
          `${figures.rebuild100kInstancesS} s`,
          figures.rebuild100kScaled ? `scaled from ${instances} at the measured rate` : 'measured',
        ],
        [
          'per event: $all read / contract check / apply (µs)',
          `${perEvent.readUs} / ${perEvent.contractUs} / ${perEvent.applyUs}`,
          'wall time, each step alone in one process, first 200,000 events: the official client, decodeStored, a page a transaction',
        ],
        [
          'CPU per event: client read / store / contract / apply (µs)',
          `${perEvent.readClientCpuUs} / ${perEvent.readStoreCpuUs} / ${perEvent.contractCpuUs} / ${perEvent.applyCpuUs}`,
          "the same steps' user + system CPU: this process's (process.cpuUsage); the store process's during the read (/proc/<pid>/stat)",
        ],
        [
          `CPU floor, 1M events on ${cores} cores`,
          `${figures.cpuFloor1MEventsS} s`,
          `the CPU above x 1,000,000 / ${cores}: the best case, every core busy, perfect parallelism; target <= 20 s`,
        ],
        [
          'server list during the rebuild p50 / p99 (ms)',
          `${figures.listDuringRebuildP50Ms} / ${figures.listDuringRebuildP99Ms}`,
          `${listLatencies.length} requests of 100 servers, ${listFailures} failed`,
        ],
        [
          'audit feed lag p50 / p99 (ms)',
          `${figures.auditLagP50Ms} / ${figures.auditLagP99Ms}`,
          `${LAG_SAMPLES} boots, append acknowledged -> event at the client; target p99 <= 50`,
        ],
        [
          'servers watch lag p50 / p99 (ms)',
          `${figures.watchLagP50Ms} / ${figures.watchLagP99Ms}`,
          `${LAG_SAMPLES} boots, append acknowledged -> ADDED at the client; target p99 <= 50`,
        ],
      ],
      figures,
    );
  } finally {
    cut.abort();
    await client.dispose();
    for (const part of parts.reverse()) await part.stop();
  }
}

await main();
