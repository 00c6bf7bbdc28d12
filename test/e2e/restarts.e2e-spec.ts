/**
 * Restarts lose no boot, on the one-host rig with every boot sent through the REST API:
 * - the scheduler and the compute agent both killed with SIGKILL during a burst, the scheduler
 *   brought back first while the agent is still down: it judges the host by the agent's last kept
 *   heartbeat, not by its own silence, so it places the burst instead of failing it with "No valid
 *   host was found. Filter ComputeFilter returned 0 hosts"; the agent, back, builds what it finds due;
 * - the whole control plane shut down gracefully (SIGTERM, in `npm run down`'s order) while builds
 *   are under way, with no grace for the agent's work, and started again: the builds cut off by our
 *   own shutdown are not counted as the host's failures (which would leave the one host excluded:
 *   "Filter RetryFilter returned 0 hosts") but done by the agent that comes back.
 * The rig has room for every server, so every boot must end ACTIVE, started once, and no build may
 * have been recorded as failed.
 */
import { VirshDriver, hostConfigsFromInventory } from '../../apps/compute/src/hypervisor/index.js';
import { eventually } from '../support/eventually.js';
import { InstanceEvents } from '../support/instance-events.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { acceptedBurst } from '../support/servers.js';
import { SettledSystem, settledTargetOf } from '../support/settled-system.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;
let virsh: VirshDriver;
let settled: SettledSystem;

beforeAll(async () => {
  system = await startSystem({
    rigHosts: 1,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
    // Nova's service_down_time is 60 s; 10 s is this system's default.
    schedulerEnv: { NIMBUS_SCHEDULER_HEARTBEAT_TIMEOUT_MS: '10000' },
    // Whatever is under way when the agent is told to stop is cut off at once.
    computeEnv: { NIMBUS_COMPUTE_SHUTDOWN_GRACE_MS: '0' },
  });
  os = await login();
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
  settled = new SettledSystem(settledTargetOf(system), os, virsh);
}, 180_000);

afterAll(async () => {
  await virsh.close();
  await system.stop();
}, 120_000);

function login(): Promise<OpenStackHttp> {
  return OpenStackHttp.login(system.apiUrl!, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
}

/** Every server booted in this file: each test checks all of them, not just its own burst's. */
const everyServer: string[] = [];

function burst(name: string, count: number): Promise<string[]> {
  return acceptedBurst(os, name, count, everyServer);
}

/** No build of these servers was recorded as a failure of the host. */
async function expectNoBuildFailed(ids: readonly string[]): Promise<void> {
  const failed = await Promise.all(
    ids.map(async (id) => ((await settled.eventTypes(id)).includes('DomainStartFailed') ? [id] : [])),
  );
  expect(failed.flat()).toEqual([]);
}

describe('restarts during bursts of boots', () => {
  it('places a burst with a freshly restarted scheduler while the compute agent is still down', async () => {
    const events = await InstanceEvents.watch(system.client);
    const ids = await burst('both', 12);
    try {
      await events.next('HostSelected', ids);
      await system.scheduler.kill9();
      await events.next('DomainStarted', ids).catch(() => undefined);
      await system.compute.kill9();
      await settled.expectInFlight('SIGKILL of the scheduler and the compute agent', ids);
    } finally {
      await events.stop();
    }

    // Only the scheduler comes back: with no agent beating, it must place every boot on the
    // host its agent was last heard from a moment ago, and fail none.
    try {
      await system.scheduler.restart();
      await eventually(
        'every boot of the burst placed by the restarted scheduler',
        async () => {
          const types = await Promise.all(ids.map((id) => settled.eventTypes(id)));
          if (types.some((seen) => seen.includes('InstanceFailed')))
            throw new Error('the restarted scheduler failed a boot instead of placing it');
          return types.every((seen) => seen.includes('HostSelected')) || undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await system.compute.restart();
    }

    await settled.expectAllActiveAndNothingDoubled(everyServer);
    await expectNoBuildFailed(ids);
  }, 400_000);

  it('finishes the builds cut off by a graceful shutdown of the whole control plane', async () => {
    const events = await InstanceEvents.watch(system.client);
    const ids = await burst('down', 8);
    try {
      await events.next('DomainStarted', ids);
    } finally {
      await events.stop();
    }
    // `npm run down`'s order: the newest part first, the store last; the hosts keep running.
    const parts = [system.compute, system.scheduler, system.api!, system.nats, system.eventStore];
    await system.compute.terminate();
    await settled.expectInFlight('the shutdown of the compute agent', ids);
    for (const part of parts) await part.terminate();
    for (const part of [...parts].reverse()) await part.restart();
    os = await login();
    settled = new SettledSystem(settledTargetOf(system), os, virsh);

    await settled.expectAllActiveAndNothingDoubled(everyServer);
    await expectNoBuildFailed(ids);
  }, 400_000);
});
