/**
 * `npm run bench:boot`: how fast a server goes from `POST /servers` to ACTIVE, and where the time goes.
 *
 *  1. On the rig (real libvirt over SSH, TCG guests): N concurrent boots through the REST API. The
 *     time is from the moment the POST is sent to the DomainStarted event's time (same clock). The
 *     control plane's share is taken per boot from its trace: everything but the driver's own work
 *     (image into the host's cache, overlay, define, start, all over SSH); resolving the image is the
 *     control plane's.
 *  2. With 1,000 simulated hosts (the named fake driver, used only for scale figures): a burst of
 *     concurrent boots, then boots kept at concurrency 10 and 50 (each client polls its server as
 *     clients do), the scheduler's own decision time, each process's peak resident memory, and the
 *     CPU each process spends per boot at concurrency 50 (what bounds boots/s on a busy machine).
 *  3. Every service exports its spans (OpenTelemetry over OTLP) to a receiver in this process: the
 *     hop table is built per boot from them, and one boot's trace is printed as a tree.
 * Prints tables and, last, one JSON line.
 *
 * `npm run bench:boot -- --cluster` measures `up --cluster` instead, on simulated hosts: boots/s with
 * one scheduler and one agent running (their second replicas stopped), then with both, and how long
 * the relay and the hosts take to move to the standby when the active scheduler's relay and the agent
 * driving the hosts are killed with SIGKILL.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { EventStoreDBClient } from '@eventstore/db-client';

import { streamFor } from '#libs/contracts';
import { EventStore } from '#libs/event-store';

import { OpenStackHttp } from '../deploy/clients/openstack-http.js';
import { readEnvFile } from '../deploy/local/services.js';
import { Supervisor } from '../deploy/local/supervisor.js';
import { eventually } from '../test/support/eventually.js';
import { collect } from '../test/support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../test/support/system.js';
import { type CollectedSpan, startTraceCollector } from '../test/support/trace-collector.js';
import { cpuMsOf, median, percentile, report, round, table } from './support.js';
import { hopTable, traceTree } from './traces.js';

const RIG_HOSTS = 3;
const RIG_BOOTS = 12;
const FAKE_HOSTS = 1_000;
const FAKE_BOOTS = 200;
/** Boots kept in flight, and how many in all, for the paced runs on simulated hosts. */
const PACED = [
  { concurrency: 10, count: 100 },
  { concurrency: 50, count: 500 },
] as const;
const run = promisify(execFile);
/** How often a paced client asks for its server, as bench clients poll. */
const POLL_MS = 10;

interface BurstResult {
  readonly postToActiveMs: number[];
  /** POST to HostSelected: the API, the store, the relay, the bus and the scheduler. */
  readonly postToSelectedMs: number[];
  readonly elapsedMs: number;
  readonly failed: number;
}

/** Where boots are sent and their streams read: the API as admin, the boot image, the store. */
interface Target {
  readonly os: OpenStackHttp;
  readonly imageId: string;
  readonly store: EventStore;
}

async function targetOf(apiUrl: string, password: string, store: EventStore): Promise<Target> {
  const os = await OpenStackHttp.login(apiUrl, { user: 'admin', password, project: 'admin' });
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  return { os, imageId: images.body.images[0]?.id ?? randomUUID(), store };
}

const adminOf = (system: NimbusSystem): Promise<Target> =>
  targetOf(system.apiUrl!, ADMIN_PASSWORD, system.store);

async function postServer(
  os: OpenStackHttp,
  imageId: string,
  index: number,
): Promise<{ id: string; at: number }> {
  const at = Date.now();
  const reply = await os.compute<{ server: { id: string } }>('POST', '/servers', {
    server: { name: `bench-${index}`, imageRef: imageId, flavorRef: '0', networks: 'none' },
  });
  if (reply.status !== 202)
    throw new Error(`POST /servers answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return { id: reply.body.server.id, at };
}

/** All boots at once. */
async function burst(target: Target, count: number): Promise<BurstResult> {
  const { os, imageId } = target;
  const startedAt = Date.now();
  const sent = await Promise.all(Array.from({ length: count }, (_, index) => postServer(os, imageId, index)));
  return outcomes(target, sent, startedAt);
}

/** `count` boots, `concurrency` in flight: each client boots, polls its server until ACTIVE, then the next. */
async function paced(target: Target, count: number, concurrency: number): Promise<BurstResult> {
  const { os, imageId } = target;
  const startedAt = Date.now();
  const sent: { id: string; at: number }[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const boot = await postServer(os, imageId, index);
      sent.push(boot);
      for (;;) {
        const shown = await os.compute<{ server: { status: string } }>('GET', `/servers/${boot.id}`);
        if (shown.body.server.status === 'ACTIVE' || shown.body.server.status === 'ERROR') break;
        await sleep(POLL_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return outcomes(target, sent, startedAt);
}

/** Each boot's times, from its stream: POST to HostSelected and to DomainStarted (same clock). */
async function outcomes(
  target: Target,
  sent: readonly { id: string; at: number }[],
  startedAt: number,
): Promise<BurstResult> {
  const finished = await eventually(
    `all ${sent.length} boots started or failed`,
    async () => {
      const outcomes = await Promise.all(
        sent.map(async ({ id, at }) => {
          const events = await collect(target.store.read(streamFor('instance', id)));
          const started = events.find((event) => event.type === 'DomainStarted');
          const selected = events.find((event) => event.type === 'HostSelected');
          if (started && selected) {
            return {
              ok: true,
              ms: Date.parse(started.metadata.occurredAt) - at,
              selectedMs: Date.parse(selected.metadata.occurredAt) - at,
            };
          }
          const failed = events.some((event) => event.type === 'InstanceFailed');
          return failed ? { ok: false, ms: 0, selectedMs: 0 } : undefined;
        }),
      );
      return outcomes.every((outcome) => outcome !== undefined) ? outcomes : undefined;
    },
    300_000,
  );
  // The last ACTIVE, on the wall clock, relative to the first POST.
  const lastActive = Math.max(
    ...finished.map((outcome, index) =>
      outcome.ok ? (sent[index]?.at ?? startedAt) + outcome.ms : startedAt,
    ),
  );
  return {
    postToActiveMs: finished.filter((outcome) => outcome.ok).map((outcome) => outcome.ms),
    postToSelectedMs: finished.filter((outcome) => outcome.ok).map((outcome) => outcome.selectedMs),
    elapsedMs: Math.max(1, lastActive - startedAt),
    failed: finished.filter((outcome) => !outcome.ok).length,
  };
}

async function agentSpawns(system: NimbusSystem): Promise<{ count: number; p50Ms: number | null }> {
  const response = await fetch(`http://127.0.0.1:${system.compute.port}/healthz`);
  const body = (await response.json()) as { spawns: { count: number; p50Ms: number | null } };
  return body.spawns;
}

async function schedulerDecisions(system: NimbusSystem): Promise<{ p95Ms: number | null; count: number }> {
  const response = await fetch(`http://127.0.0.1:${system.scheduler.port}/healthz`);
  const body = (await response.json()) as { decisions: { p95Ms: number | null; count: number } };
  return body.decisions;
}

/** The system's processes by name. */
function processesOf(system: NimbusSystem): [string, number][] {
  const processes = {
    'event-store': system.eventStore.pid,
    'nats-server': system.nats.pid,
    api: system.api?.pid,
    scheduler: system.scheduler.pid,
    compute: system.compute.pid,
  };
  return Object.entries(processes).filter((entry): entry is [string, number] => entry[1] !== undefined);
}

/** Each process's peak resident set (VmHWM), in MiB. */
function peakRss(system: NimbusSystem): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const [name, pid] of processesOf(system)) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    peaks[name] = round(kib / 1024, 1);
  }
  return peaks;
}

/** Each process's CPU time so far (user and system), in ms. */
function cpuTimes(system: NimbusSystem): Record<string, number> {
  return Object.fromEntries(processesOf(system).map(([name, pid]) => [name, cpuMsOf(pid)]));
}

/** The CPU each process spent per boot between two readings of cpuTimes, in ms. */
function cpuPerBoot(
  before: Record<string, number>,
  after: Record<string, number>,
  boots: number,
): Record<string, number> {
  const perBoot = Object.fromEntries(
    Object.entries(after).map(([name, ms]) => [name, round((ms - (before[name] ?? ms)) / boots, 2)]),
  );
  return {
    ...perBoot,
    all: round(
      Object.values(perBoot).reduce((sum, ms) => sum + ms, 0),
      2,
    ),
  };
}

/** The spans exported so far, once the services' batches (sent every half second) have arrived. */
async function takeSpans(spans: CollectedSpan[]): Promise<CollectedSpan[]> {
  await sleep(1_500);
  return spans.splice(0);
}

/** Per rig boot, the share of its POST->ACTIVE that is not the driver's own work; their median. */
function controlPlaneShare(spans: readonly CollectedSpan[]): number {
  const traced = hopTable(spans);
  const shares = traced.traces.map(({ traceId, totalMs }) => {
    const driverMs = spans
      .filter((span) => span.traceId === traceId && span.name === 'compute.driver spawn')
      .reduce((sum, span) => sum + (span.endMs - span.startMs), 0);
    return 1 - driverMs / totalMs;
  });
  return median(shares);
}

async function main(): Promise<void> {
  if (process.argv.includes('--cluster')) {
    await measureCluster();
    return;
  }
  const collector = await startTraceCollector();
  // Every service started below inherits it and exports its spans here.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = collector.endpoint;
  try {
    await measure(collector.spans);
  } finally {
    await collector.stop();
  }
}

async function measure(spans: CollectedSpan[]): Promise<void> {
  const rigSystem = await startSystem({
    rigHosts: RIG_HOSTS,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  let rig: BurstResult;
  let spawns: { count: number; p50Ms: number | null };
  let rigSpans: CollectedSpan[];
  try {
    rig = await burst(await adminOf(rigSystem), RIG_BOOTS);
    spawns = await agentSpawns(rigSystem);
    rigSpans = await takeSpans(spans);
  } finally {
    await rigSystem.stop();
  }

  const fakeSystem = await startSystem({
    fakeHosts: FAKE_HOSTS,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1', NIMBUS_API_QUOTA_RAM_MB: '-1' },
  });
  let fake: BurstResult;
  let pacedRuns: BurstResult[];
  let decisions: { p95Ms: number | null; count: number };
  let c10Spans: CollectedSpan[];
  let peaks: Record<string, number>;
  let cpu: Record<string, number> = {};
  try {
    const target = await adminOf(fakeSystem);
    fake = await burst(target, FAKE_BOOTS);
    await takeSpans(spans);
    pacedRuns = [];
    for (const { concurrency, count } of PACED) {
      const before = cpuTimes(fakeSystem);
      pacedRuns.push(await paced(target, count, concurrency));
      if (concurrency === 50) cpu = cpuPerBoot(before, cpuTimes(fakeSystem), count);
      if (concurrency === 10) c10Spans = await takeSpans(spans);
    }
    decisions = await schedulerDecisions(fakeSystem);
    peaks = peakRss(fakeSystem);
  } finally {
    await fakeSystem.stop();
  }

  const hops = hopTable(c10Spans!);
  table(
    `Where a boot's time goes: ${hops.boots} boots traced at concurrency 10, ${FAKE_HOSTS} simulated hosts`,
    [
      ['hop', 'p50 (ms)', 'p99 (ms)', 'share of POST->ACTIVE'],
      ...hops.rows.map((row) => [
        row.hop,
        round(row.p50Ms, 2),
        round(row.p99Ms, 2),
        `${round(100 * row.share, 1)} %`,
      ]),
    ],
  );
  const typical = hops.traces[Math.floor(hops.traces.length / 2)];
  if (typical !== undefined) {
    process.stdout.write(`\nThe median boot's trace (${round(typical.totalMs, 2)} ms), span by span:\n`);
    process.stdout.write(`${traceTree(c10Spans!, typical.traceId)}\n`);
  }
  table('Peak resident memory, 1,000 simulated hosts (MiB)', Object.entries(peaks));
  table(
    `CPU per boot at concurrency 50 (ms; user and system, tracing on), ${FAKE_HOSTS} simulated hosts`,
    Object.entries(cpu),
  );

  const [c10, c50] = pacedRuns as [BurstResult, BurstResult];
  const p50 = median(rig.postToActiveMs);
  const figures = {
    postToActiveP50Ms: round(p50, 1),
    postToActiveP95Ms: round(percentile(rig.postToActiveMs, 95), 1),
    controlPlaneShare: round(controlPlaneShare(rigSpans!), 3),
    bootsPerSec: round(rig.postToActiveMs.length / (rig.elapsedMs / 1000), 2),
    fakeHosts1000PostToActiveP50Ms: round(median(fake.postToActiveMs), 1),
    fakeHosts1000BootsPerSec: round(fake.postToActiveMs.length / (fake.elapsedMs / 1000), 2),
    fakeC10PostToActiveP50Ms: round(median(c10.postToActiveMs), 1),
    fakeC50BootsPerSec: round(c50.postToActiveMs.length / (c50.elapsedMs / 1000), 2),
    schedulerDecisionP95Ms: decisions.p95Ms ?? Number.NaN,
    hopP99Ms: Object.fromEntries(hops.rows.map((row) => [row.hop, round(row.p99Ms, 2)])),
    peakRssMiB: round(
      Object.values(peaks).reduce((sum, mib) => sum + mib, 0),
      1,
    ),
    cpuMsPerBoot: cpu,
  };
  report(
    'Boot: POST /servers to ACTIVE (DomainStarted), same run, tracing on',
    [
      [
        'rig: boots (concurrent)',
        `${rig.postToActiveMs.length} ACTIVE, ${rig.failed} ERROR`,
        `${RIG_HOSTS} real libvirt hosts over SSH, TCG`,
      ],
      ['rig: POST->ACTIVE p50 (ms)', figures.postToActiveP50Ms, ''],
      ['rig: POST->ACTIVE p95 (ms)', figures.postToActiveP95Ms, ''],
      [
        'rig: POST->HostSelected p50 (ms)',
        round(median(rig.postToSelectedMs), 1),
        'API, store, relay, bus, scheduler',
      ],
      [
        'rig: inside libvirt/qemu, median (ms)',
        spawns.p50Ms ?? Number.NaN,
        `${spawns.count} builds, as the agent timed its driver`,
      ],
      [
        'rig: control-plane share',
        figures.controlPlaneShare,
        "median over boots of 1 - the driver's span / the boot's traced POST->ACTIVE",
      ],
      ['rig: boots/s', figures.bootsPerSec, 'ACTIVE / time from first POST to last ACTIVE'],
      [
        'fake: boots (all at once)',
        `${fake.postToActiveMs.length} ACTIVE, ${fake.failed} ERROR`,
        `${FAKE_HOSTS} simulated hosts (fake driver)`,
      ],
      ['fake: POST->ACTIVE p50 (ms)', figures.fakeHosts1000PostToActiveP50Ms, ''],
      ['fake: POST->HostSelected p50 (ms)', round(median(fake.postToSelectedMs), 1), ''],
      ['fake: boots/s', figures.fakeHosts1000BootsPerSec, ''],
      [
        'fake c10: POST->ACTIVE p50 (ms)',
        figures.fakeC10PostToActiveP50Ms,
        `${c10.postToActiveMs.length} ACTIVE, ${c10.failed} ERROR, 10 clients polling every ${POLL_MS} ms`,
      ],
      [
        'fake c50: boots/s',
        figures.fakeC50BootsPerSec,
        `${c50.postToActiveMs.length} ACTIVE, ${c50.failed} ERROR, 50 clients polling every ${POLL_MS} ms`,
      ],
      [
        'scheduler decision p95 (ms)',
        figures.schedulerDecisionP95Ms,
        `${decisions.count} decisions over ${FAKE_HOSTS} hosts`,
      ],
      ['peak resident memory, all (MiB)', figures.peakRssMiB, "sum of each process's peak"],
    ],
    figures,
  );
}

const CLUSTER_HOSTS = 100;
const CLUSTER_RUN = { concurrency: 20, count: 300 } as const;
/** `up` for the cluster the benchmark measures; run again, it starts what is not running. */
const CLUSTER_UP = ['--cluster', '--driver', 'fake', '--hosts', String(CLUSTER_HOSTS)];

/** The cluster as `up --cluster` leaves it: its run records, its API, its store. */
class ClusterUnderTest {
  private constructor(
    readonly stateDir: string,
    readonly supervisor: Supervisor,
    readonly client: EventStoreDBClient,
    readonly target: Target,
  ) {}

  static async up(stateDir: string): Promise<ClusterUnderTest> {
    await ClusterUnderTest.command(stateDir, 'up', CLUSTER_UP);
    const env = readEnvFile(join(stateDir, 'env'));
    const { adminPassword } = JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as {
      adminPassword: string;
    };
    const client = EventStoreDBClient.connectionString(env['EVENTSTORE_URL'] ?? '');
    const target = await targetOf(env['API_URL'] ?? '', adminPassword, new EventStore(client));
    const unlimited = { instances: -1, cores: -1, ram: -1 };
    await target.os.compute('PUT', `/os-quota-sets/${target.os.projectId}`, { quota_set: unlimited });
    return new ClusterUnderTest(stateDir, new Supervisor(stateDir), client, target);
  }

  static async command(stateDir: string, command: 'up' | 'down', args: readonly string[]): Promise<void> {
    await run(process.execPath, [`dist/deploy/local/${command}.js`, '--state-dir', stateDir, ...args], {
      timeout: 600_000,
    });
  }

  async health(name: string): Promise<Record<string, unknown>> {
    const record = await this.supervisor.running(name);
    if (!record) throw new Error(`${name} is not running`);
    const response = await fetch(`http://127.0.0.1:${String(record.details['healthPort'])}/healthz`);
    return (await response.json()) as Record<string, unknown>;
  }

  async relaying(name: string): Promise<boolean> {
    return ((await this.health(name))['relay'] as { active: boolean }).active;
  }

  async hostsOf(name: string): Promise<number> {
    return ((await this.health(name))['hosts'] as string[]).length;
  }

  /** SIGKILL; how long until `check` holds afterwards. */
  async failover(name: string, check: () => Promise<boolean>): Promise<number> {
    const record = await this.supervisor.running(name);
    if (!record) throw new Error(`${name} is not running`);
    const killedAt = Date.now();
    process.kill(record.pid, 'SIGKILL');
    await eventually(`${name}'s work taken over`, async () => ((await check()) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    return Date.now() - killedAt;
  }

  async stop(name: string): Promise<void> {
    const record = await this.supervisor.running(name);
    if (record) await this.supervisor.stop(record);
  }
}

async function measureCluster(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-cluster-'));
  const stateDir = join(workDir, 'state');
  let cluster: ClusterUnderTest | undefined;
  try {
    cluster = await ClusterUnderTest.up(stateDir);
    // One of each first: the second scheduler and agent stopped (the first agent holds every host).
    await cluster.stop('scheduler-2');
    await cluster.stop('compute-2');
    await eventually('compute-1 driving every host', async () =>
      (await cluster!.hostsOf('compute-1')) === CLUSTER_HOSTS ? true : undefined,
    );
    const one = await paced(cluster.target, CLUSTER_RUN.count, CLUSTER_RUN.concurrency);
    // Both again (`up` starts what is not running), once the agents have shared the hosts out.
    await ClusterUnderTest.command(stateDir, 'up', CLUSTER_UP);
    const shares = (): Promise<number[]> =>
      Promise.all(['compute-1', 'compute-2'].map((name) => cluster!.hostsOf(name)));
    await eventually('the hosts shared out', async () =>
      (await shares()).every((count) => count === CLUSTER_HOSTS / 2) ? true : undefined,
    );
    const two = await paced(cluster.target, CLUSTER_RUN.count, CLUSTER_RUN.concurrency);
    const held = await shares();

    const active = (await cluster.relaying('scheduler-1')) ? 'scheduler-1' : 'scheduler-2';
    const standby = active === 'scheduler-1' ? 'scheduler-2' : 'scheduler-1';
    const relayFailoverMs = await cluster.failover(active, () => cluster!.relaying(standby));
    const agentFailoverMs = await cluster.failover(
      'compute-1',
      async () => (await cluster!.hostsOf('compute-2')) === CLUSTER_HOSTS,
    );

    const bootsPerSec = (result: BurstResult): number =>
      round(result.postToActiveMs.length / (result.elapsedMs / 1000), 2);
    const figures = {
      clusterBootsPerSec1: bootsPerSec(one),
      clusterBootsPerSec2: bootsPerSec(two),
      clusterPostToActiveP50Ms1: round(median(one.postToActiveMs), 1),
      clusterPostToActiveP50Ms2: round(median(two.postToActiveMs), 1),
      relayFailoverMs,
      agentFailoverMs,
    };
    const load = `${CLUSTER_RUN.count} boots, ${CLUSTER_RUN.concurrency} clients polling every ${POLL_MS} ms`;
    report(
      `up --cluster on ${CLUSTER_HOSTS} simulated hosts: 3 NATS nodes (JetStream R3), 2 APIs behind haproxy`,
      [
        ['boots/s, 1 scheduler and 1 agent', figures.clusterBootsPerSec1, `${load}; ${one.failed} ERROR`],
        ['POST->ACTIVE p50 (ms), 1 and 1', figures.clusterPostToActiveP50Ms1, ''],
        ['boots/s, 2 schedulers and 2 agents', figures.clusterBootsPerSec2, `${load}; ${two.failed} ERROR`],
        [
          'POST->ACTIVE p50 (ms), 2 and 2',
          figures.clusterPostToActiveP50Ms2,
          `hosts held: ${held.join(' and ')}`,
        ],
        ['relay take-over after SIGKILL (ms)', relayFailoverMs, 'lease 6000 ms'],
        [
          'hosts take-over after SIGKILL (ms)',
          agentFailoverMs,
          `compute-1's ${CLUSTER_HOSTS / 2} hosts, lease 6000 ms`,
        ],
      ],
      figures,
    );
  } finally {
    await cluster?.client.dispose();
    await ClusterUnderTest.command(stateDir, 'down', ['--purge']).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
