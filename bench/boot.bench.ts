/**
 * `npm run bench:boot`: how fast a server goes from `POST /servers` to ACTIVE.
 *
 *  1. On the rig (real libvirt over SSH, TCG guests): N concurrent boots through the REST API. The
 *     time is from the moment the POST is sent to the DomainStarted event's time (same clock). The
 *     share spent inside libvirt/qemu is the median time the libvirt driver itself needs to put a
 *     domain up (image in cache, overlay, define, start), measured in the same run on the same hosts,
 *     over the median POST-to-ACTIVE; the rest is the control plane (API, store, relay, bus,
 *     scheduler, agent).
 *  2. With 1,000 simulated hosts (the named fake driver, used only for scale figures): the same
 *     control-plane path for many concurrent boots, and the scheduler's own decision time.
 * Prints a table and, last, one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { streamFor } from '#libs/contracts';

import {
  VirshDriver,
  domainNameOf,
  domainSpec,
  hostConfigsFromInventory,
} from '../apps/compute/src/hypervisor/index.js';
import { OpenStackHttp } from '../test/support/openstack-http.js';
import { collect, eventually } from '../test/support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../test/support/system.js';
import { median, percentile, report, round } from './support.js';

const RIG_HOSTS = 3;
const RIG_BOOTS = 12;
const DRIVER_SAMPLES = 6;
const FAKE_HOSTS = 1_000;
const FAKE_BOOTS = 200;

interface BurstResult {
  readonly postToActiveMs: number[];
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
  const finished = await eventually(async () => {
    const outcomes = await Promise.all(
      sent.map(async ({ id, at }) => {
        const events = await collect(system.store.read(streamFor('instance', id)));
        const started = events.find((event) => event.type === 'DomainStarted');
        if (started) return { ok: true, ms: Date.parse(started.metadata.occurredAt) - at };
        return events.some((event) => event.type === 'InstanceFailed') ? { ok: false, ms: 0 } : undefined;
      }),
    );
    return outcomes.every((outcome) => outcome !== undefined) ? outcomes : undefined;
  }, 300_000);
  // The last ACTIVE, on the wall clock, relative to the first POST.
  const lastActive = Math.max(
    ...finished.map((outcome, index) =>
      outcome.ok ? (sent[index]?.at ?? startedAt) + outcome.ms : startedAt,
    ),
  );
  return {
    postToActiveMs: finished.filter((outcome) => outcome.ok).map((outcome) => outcome.ms),
    elapsedMs: Math.max(1, lastActive - startedAt),
    failed: finished.filter((outcome) => !outcome.ok).length,
  };
}

/** The libvirt driver alone on the rig's hosts: image cached, overlay, define, start. */
async function libvirtSpawnMs(system: NimbusSystem, samples: number): Promise<number[]> {
  const rig = system.rig!;
  const driver = new VirshDriver({ hosts: hostConfigsFromInventory(rig) });
  const imageId = randomUUID();
  const host = rig.hosts[0]!.name;
  const times: number[] = [];
  try {
    await driver.ensureImage(host, { id: imageId, sourcePath: rig.bootImagePath });
    for (let sample = 0; sample < samples; sample += 1) {
      const instanceId = randomUUID();
      const started = performance.now();
      await driver.ensureImage(host, { id: imageId, sourcePath: rig.bootImagePath });
      await driver.spawn(host, domainSpec({ instanceId, vcpus: 1, memoryMib: 64, imageId }));
      times.push(performance.now() - started);
      await driver.destroy(host, domainNameOf(instanceId));
    }
  } finally {
    await driver.close();
  }
  return times;
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
  let spawnMs: number[];
  try {
    rig = await burst(rigSystem, RIG_BOOTS);
    // The agent's power sync would rightly destroy domains the store does not know, such as the
    // ones the driver-alone measurement makes; it is stopped first.
    await rigSystem.compute.stop();
    spawnMs = await libvirtSpawnMs(rigSystem, DRIVER_SAMPLES);
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
  const libvirtShare = Math.min(1, median(spawnMs) / p50);
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
        'rig: libvirt spawn median (ms)',
        round(median(spawnMs), 1),
        `${DRIVER_SAMPLES} spawns by the driver alone`,
      ],
      [
        'rig: control-plane share of p50',
        figures.controlPlaneShare,
        '1 - libvirt median / POST->ACTIVE median',
      ],
      ['rig: boots/s', figures.bootsPerSec, 'ACTIVE / time from first POST to last ACTIVE'],
      [
        'fake: boots (concurrent)',
        `${fake.postToActiveMs.length} ACTIVE, ${fake.failed} ERROR`,
        `${FAKE_HOSTS} simulated hosts (fake driver)`,
      ],
      ['fake: POST->ACTIVE p50 (ms)', figures.fakeHosts1000PostToActiveP50Ms, ''],
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
