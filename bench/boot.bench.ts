/**
 * `npm run bench:boot`: how fast a server goes from `POST /servers` to ACTIVE.
 *
 *  1. On the rig (real libvirt over SSH, TCG guests): N concurrent boots through the REST API. The
 *     time is from the moment the POST is sent to the DomainStarted event's time (same clock). The
 *     share spent inside libvirt/qemu is what the compute agent itself measured for these very
 *     boots: the time each spent inside the driver (image into the host's cache, overlay, define,
 *     start, all over SSH), median over median POST-to-ACTIVE; the rest is the control plane (API,
 *     store, relay, bus, scheduler, the agent's own work).
 *  2. With 1,000 simulated hosts (the named fake driver, used only for scale figures): the same
 *     control-plane path for many concurrent boots, and the scheduler's own decision time.
 * Prints a table and, last, one JSON line.
 */
import { randomUUID } from 'node:crypto';

import { streamFor } from '#libs/contracts';

import { OpenStackHttp } from '../deploy/clients/openstack-http.js';
import { eventually } from '../test/support/eventually.js';
import { collect } from '../test/support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../test/support/system.js';
import { median, percentile, report, round } from './support.js';

const RIG_HOSTS = 3;
const RIG_BOOTS = 12;
const FAKE_HOSTS = 1_000;
const FAKE_BOOTS = 200;

interface BurstResult {
  readonly postToActiveMs: number[];
  /** POST to HostSelected: the API, the store, the relay, the bus and the scheduler. */
  readonly postToSelectedMs: number[];
  readonly elapsedMs: number;
  readonly failed: number;
}

async function burst(system: NimbusSystem, count: number): Promise<BurstResult> {
  const os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  const imageId = images.body.images[0]?.id ?? randomUUID();
  const startedAt = Date.now();
  const sent = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const at = Date.now();
      const reply = await os.compute<{ server: { id: string } }>('POST', '/servers', {
        server: { name: `bench-${index}`, imageRef: imageId, flavorRef: '0', networks: 'none' },
      });
      if (reply.status !== 202)
        throw new Error(`POST /servers answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return { id: reply.body.server.id, at };
    }),
  );
  const finished = await eventually(
    `all ${sent.length} boots started or failed`,
    async () => {
      const outcomes = await Promise.all(
        sent.map(async ({ id, at }) => {
          const events = await collect(system.store.read(streamFor('instance', id)));
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

async function main(): Promise<void> {
  const rigSystem = await startSystem({
    rigHosts: RIG_HOSTS,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  let rig: BurstResult;
  let spawns: { count: number; p50Ms: number | null };
  try {
    rig = await burst(rigSystem, RIG_BOOTS);
    spawns = await agentSpawns(rigSystem);
  } finally {
    await rigSystem.stop();
  }

  const fakeSystem = await startSystem({
    fakeHosts: FAKE_HOSTS,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1', NIMBUS_API_QUOTA_RAM_MB: '-1' },
  });
  let fake: BurstResult;
  let decisions: { p95Ms: number | null; count: number };
  try {
    fake = await burst(fakeSystem, FAKE_BOOTS);
    decisions = await schedulerDecisions(fakeSystem);
  } finally {
    await fakeSystem.stop();
  }

  const p50 = median(rig.postToActiveMs);
  const libvirtShare = Math.min(1, (spawns.p50Ms ?? 0) / p50);
  const figures = {
    postToActiveP50Ms: round(p50, 1),
    postToActiveP95Ms: round(percentile(rig.postToActiveMs, 95), 1),
    controlPlaneShare: round(1 - libvirtShare, 3),
    bootsPerSec: round(rig.postToActiveMs.length / (rig.elapsedMs / 1000), 2),
    fakeHosts1000PostToActiveP50Ms: round(median(fake.postToActiveMs), 1),
    fakeHosts1000BootsPerSec: round(fake.postToActiveMs.length / (fake.elapsedMs / 1000), 2),
    schedulerDecisionP95Ms: decisions.p95Ms ?? Number.NaN,
  };
  report(
    'Boot: POST /servers to ACTIVE (DomainStarted), same run',
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
        'rig: control-plane share of p50',
        figures.controlPlaneShare,
        '1 - inside-libvirt median / POST->ACTIVE median',
      ],
      ['rig: boots/s', figures.bootsPerSec, 'ACTIVE / time from first POST to last ACTIVE'],
      [
        'fake: boots (concurrent)',
        `${fake.postToActiveMs.length} ACTIVE, ${fake.failed} ERROR`,
        `${FAKE_HOSTS} simulated hosts (fake driver)`,
      ],
      ['fake: POST->ACTIVE p50 (ms)', figures.fakeHosts1000PostToActiveP50Ms, ''],
      ['fake: POST->HostSelected p50 (ms)', round(median(fake.postToSelectedMs), 1), ''],
      ['fake: boots/s', figures.fakeHosts1000BootsPerSec, ''],
      [
        'scheduler decision p95 (ms)',
        figures.schedulerDecisionP95Ms,
        `${decisions.count} decisions over ${FAKE_HOSTS} hosts`,
      ],
    ],
    figures,
  );
}

await main();
