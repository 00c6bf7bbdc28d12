/**
 * `npm run bench:api`: the API's latency and throughput with 10,000 servers in its read model.
 * The API runs as its own process over the embedded event store; 10,000 servers are written to the
 * store as concurrent boots would write them (half ACTIVE), and the server projection catches up.
 * Then, from this process over loopback HTTP: token issue (password auth, a deliberately slow
 * hash), token validation (`GET /v3/auth/tokens`), server show (the projection at the stream's
 * head) and server list (the projection: pages of 100 and Nova's default page of up to 1000), each
 * with several clients at once. Prints a table and, last, one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { BootRequested, DomainStarted, HostSelected, build, streamFor } from '#libs/contracts';

import { eventually } from '../test/support/eventually.js';
import { ADMIN_PASSWORD } from '../test/support/system.js';
import { startEventStoreProcess } from '../test/support/event-store-process.js';
import { EventStoreDBClient } from '@eventstore/db-client';
import { EventStore } from '#libs/event-store';
import { percentile, report, round, startBenchApi } from './support.js';

const SERVERS = 10_000;
const TOKEN_REQUESTS = 200;
const SHOW_REQUESTS = 4_000;
const LIST_REQUESTS = 400;
const VALIDATE_REQUESTS = 2_000;
const LIST_100_REQUESTS = 1_000;

interface Phase {
  readonly latenciesMs: number[];
  readonly perSecond: number;
}

/** `requests` calls of `call`, `clients` at a time; latency per call, throughput over the phase. */
async function phase(
  requests: number,
  clients: number,
  call: (index: number) => Promise<void>,
): Promise<Phase> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const index = next++;
        const at = performance.now();
        await call(index);
        latenciesMs.push(performance.now() - at);
      }
    }),
  );
  return { latenciesMs, perSecond: requests / ((performance.now() - started) / 1000) };
}

async function main(): Promise<void> {
  const eventStore = await startEventStoreProcess();
  const parts: { stop(): Promise<void> }[] = [eventStore];
  const client = EventStoreDBClient.connectionString(eventStore.connectionString);
  try {
    const api = await startBenchApi(eventStore.connectionString);
    parts.push(api);
    const { url: apiUrl, admin } = api;
    const token = { user: { id: api.adminUserId }, project: { id: api.adminProjectId } };

    const store = new EventStore(client);
    const context = {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: token.user.id, projectId: token.project.id, kind: 'user' as const },
    };
    const ids: string[] = [];
    const seeding = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let index = 0; index < SERVERS; index += 1) {
      const instanceId = randomUUID();
      ids.push(instanceId);
      const events: object[] = [
        build(BootRequested, {
          instanceId,
          projectId: token.project.id,
          userId: token.user.id,
          name: `bench-${index}`,
          flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
          image: { id: randomUUID(), name: 'boot', properties: {} },
          metadata: {},
          requestedNetworks: 'none',
        }),
      ];
      if (index % 2 === 0) {
        events.push(
          build(HostSelected, {
            instanceId,
            attempt: 1,
            host: 'hv-1',
            alternates: [],
            trace: { hostsIn: 1, filters: [], weighed: [] },
          }),
          build(DomainStarted, {
            instanceId,
            host: 'hv-1',
            domainName: `nimbus-${instanceId}`,
            reason: 'boot',
          }),
        );
      }
      pending.push(store.append(streamFor('instance', instanceId), events, 'no_stream', context));
      if (pending.length >= 200) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const seededMs = performance.now() - seeding;
    const catchingUp = performance.now();
    await eventually(
      'the API to list the last seeded server',
      async () => {
        const page = await admin.compute<{ servers: unknown[] }>(
          'GET',
          `/servers?name=^bench-${SERVERS - 1}$`,
        );
        return page.body.servers.length === 1 ? true : undefined;
      },
      120_000,
    );
    const catchUpMs = performance.now() - catchingUp;

    const tokenBody = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    const tokens = await phase(TOKEN_REQUESTS, 4, async () => {
      const response = await fetch(`${apiUrl}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: tokenBody,
      });
      if (response.status !== 201) throw new Error(`token issue answered ${response.status}`);
      await response.arrayBuffer();
    });
    const validations = await phase(VALIDATE_REQUESTS, 8, async () => {
      const response = await fetch(`${apiUrl}/v3/auth/tokens?nocatalog`, {
        headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': admin.token },
      });
      if (response.status !== 200) throw new Error(`token validation answered ${response.status}`);
      await response.arrayBuffer();
    });
    const shows = await phase(SHOW_REQUESTS, 16, async (index) => {
      const reply = await admin.compute('GET', `/servers/${ids[(index * 7919) % ids.length]!}`);
      if (reply.status !== 200) throw new Error(`server show answered ${reply.status}`);
    });
    const lists100 = await phase(LIST_100_REQUESTS, 8, async () => {
      const reply = await admin.compute<{ servers: unknown[] }>('GET', '/servers?limit=100');
      if (reply.status !== 200 || reply.body.servers.length !== 100)
        throw new Error(`server list answered ${reply.status}`);
    });
    const lists = await phase(LIST_REQUESTS, 8, async () => {
      const reply = await admin.compute<{ servers: unknown[] }>('GET', '/servers');
      if (reply.status !== 200 || reply.body.servers.length !== 1000)
        throw new Error(`server list answered ${reply.status}`);
    });

    const figures = {
      tokenIssueP50Ms: round(percentile(tokens.latenciesMs, 50), 2),
      tokenIssueP99Ms: round(percentile(tokens.latenciesMs, 99), 2),
      tokenValidateP50Ms: round(percentile(validations.latenciesMs, 50), 2),
      tokenValidateP99Ms: round(percentile(validations.latenciesMs, 99), 2),
      serverShowP50Ms: round(percentile(shows.latenciesMs, 50), 2),
      serverShowP99Ms: round(percentile(shows.latenciesMs, 99), 2),
      serverList100P50Ms: round(percentile(lists100.latenciesMs, 50), 2),
      serverList100P99Ms: round(percentile(lists100.latenciesMs, 99), 2),
      serverListP50Ms: round(percentile(lists.latenciesMs, 50), 2),
      serverListP99Ms: round(percentile(lists.latenciesMs, 99), 2),
      requestsPerSec: round(shows.perSecond, 0),
    };
    report(
      `API with ${SERVERS} servers in the read model (API process + embedded store, loopback)`,
      [
        [
          'seed: servers written / projection caught up',
          `${round(seededMs / 1000, 1)} s / ${round(catchUpMs / 1000, 1)} s`,
          '10,000 servers, half ACTIVE',
        ],
        [
          'token issue p50 / p99 (ms)',
          `${figures.tokenIssueP50Ms} / ${figures.tokenIssueP99Ms}`,
          `${TOKEN_REQUESTS} requests, 4 clients; scrypt password check; ${round(tokens.perSecond, 1)} req/s`,
        ],
        [
          'token validation p50 / p99 (ms)',
          `${figures.tokenValidateP50Ms} / ${figures.tokenValidateP99Ms}`,
          `${VALIDATE_REQUESTS} requests, 8 clients; GET /v3/auth/tokens; ${round(validations.perSecond, 0)} req/s`,
        ],
        [
          'server show p50 / p99 (ms)',
          `${figures.serverShowP50Ms} / ${figures.serverShowP99Ms}`,
          `${SHOW_REQUESTS} requests, 16 clients; the projection at the stream's head`,
        ],
        [
          'server list of 100 p50 / p99 (ms)',
          `${figures.serverList100P50Ms} / ${figures.serverList100P99Ms}`,
          `${LIST_100_REQUESTS} requests, 8 clients; ${round(lists100.perSecond, 0)} req/s`,
        ],
        [
          'server list p50 / p99 (ms)',
          `${figures.serverListP50Ms} / ${figures.serverListP99Ms}`,
          `${LIST_REQUESTS} requests, 8 clients; 1000 servers a page; ${round(lists.perSecond, 1)} req/s`,
        ],
        ['requests/s (server show)', figures.requestsPerSec, ''],
      ],
      figures,
    );
  } finally {
    await client.dispose();
    for (const part of parts.reverse()) await part.stop();
  }
}

await main();
