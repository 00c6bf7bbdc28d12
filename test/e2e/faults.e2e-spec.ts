/**
 * The guarantees under fire, on real libvirt over SSH, with every boot sent through the REST API.
 * Each fault lands on an observed event while the burst is still under way, and each test first
 * checks that boots were indeed still in flight when it landed: the scheduler is killed with
 * SIGKILL at the first HostSelected of a burst, the compute agent at the first DomainStarted after
 * the scheduler is back, every SSH connection to the hosts is cut at the first DomainStarted, and
 * nats-server is killed and restarted with its JetStream data wiped at the first HostSelected.
 * The rig has room for every server and none of these faults is a reason to fail a boot, so
 * afterwards every server the API accepted is ACTIVE, started exactly once, with exactly one
 * domain, running on the host the API shows; no domain runs that the store does not know, and
 * every claim belongs to an ACTIVE server on that host.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { streamFor } from '#libs/contracts';
import { hostReducer } from '#libs/domain';

import { dropSshSessions } from '../../deploy/rig/rig.js';
import { VirshDriver, hostConfigsFromInventory } from '../../apps/compute/src/hypervisor/index.js';
import { eventually } from '../support/eventually.js';
import { InstanceEvents } from '../support/instance-events.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { bootServers, settledServers } from '../support/servers.js';
import { collect } from '../support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;
let virsh: VirshDriver;
let events: InstanceEvents;

beforeAll(async () => {
  system = await startSystem({
    rigHosts: 3,
    api: true,
    // The default quota (10 instances, 20 cores) would refuse a burst of 20 before any fault.
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
  events = await InstanceEvents.watch(system.client);
}, 180_000);

afterAll(async () => {
  await events.stop();
  await virsh.close();
  await system.stop();
}, 120_000);

/** Every server booted in this file: each test checks all of them, not just its own burst's. */
const everyServer: string[] = [];

/** Posts `count` boots of m1.nano at once through the compute API; every one must be accepted. */
async function burst(name: string, count: number): Promise<string[]> {
  const replies = await bootServers(os, name, count);
  expect(replies.map((reply) => reply.status)).toEqual(Array(count).fill(202));
  const ids = replies.map((reply) => reply.body.server.id);
  everyServer.push(...ids);
  return ids;
}

async function eventTypes(id: string): Promise<string[]> {
  return (await collect(system.store.read(streamFor('instance', id)))).map((event) => event.type);
}

/**
 * Fails unless some boot of the burst had neither started its domain nor failed when `fault` was
 * done. Read after the fault, so it can only under-count what was in flight: events only accrue.
 */
async function expectInFlight(fault: string, ids: readonly string[]): Promise<void> {
  const types = await Promise.all(ids.map(eventTypes));
  const pending = types.filter((seen) => !seen.includes('DomainStarted') && !seen.includes('InstanceFailed'));
  if (pending.length === 0)
    throw new Error(
      `${fault} came after all ${ids.length} boots of the burst had settled (each had DomainStarted or ` +
        'InstanceFailed): no work was in flight, so this test proved nothing',
    );
}

/**
 * Polls `observe` until it gives `expected`; if it never does, fails with the difference between
 * the last observation and `expected`, which says what stayed wrong.
 */
async function settlesTo(what: string, observe: () => Promise<string[]>, expected: string[]): Promise<void> {
  let last: string[] = [];
  const same = (observed: string[]) => JSON.stringify(observed) === JSON.stringify(expected);
  await eventually(
    what,
    async () => {
      last = await observe();
      return same(last) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  ).catch(() => undefined);
  expect(last).toEqual(expected);
}

/** Every server ACTIVE, started once, one running domain each on its host, one claim each there. */
async function expectAllActiveAndNothingDoubled(): Promise<void> {
  const servers = await settledServers(os, everyServer, 240_000);
  expect(
    servers.filter((server) => server.status === 'ERROR').map((server) => server.fault?.message),
  ).toEqual([]);
  expect(servers.filter((server) => server.status === 'ACTIVE')).toHaveLength(everyServer.length);

  const started = await Promise.all(
    everyServer.map(async (id) => (await eventTypes(id)).filter((type) => type === 'DomainStarted').length),
  );
  expect(started).toEqual(everyServer.map(() => 1));

  const placed = servers.map((server) => `${server.id}@${server['OS-EXT-SRV-ATTR:host']}`).sort();
  const hosts = system.rig!.hosts.map((host) => host.name);
  // The power sync removes what a crash left behind: wait for it, then no domain may be missing,
  // doubled, on another host, stopped, or unknown to the store.
  await settlesTo(
    'one running domain per server, on its host, and no other',
    async () => {
      const domains = await Promise.all(
        hosts.map(async (host) =>
          (await virsh.listDomains(host))
            .filter((domain) => domain.instanceId !== null)
            .map(
              (domain) =>
                `${domain.instanceId}@${host}${domain.powerState === 'running' ? '' : ` ${domain.powerState}`}`,
            ),
        ),
      );
      return domains.flat().sort();
    },
    placed,
  );
  await settlesTo(
    'one claim per server, on its host, and no other',
    async () => {
      const claims = await Promise.all(
        hosts.map(async (host) => {
          const { state } = await system.store.fold(streamFor('host', host), hostReducer);
          return Object.keys(state.allocations).map((id) => `${id}@${host}`);
        }),
      );
      return claims.flat().sort();
    },
    placed,
  );
}

describe('faults during bursts of boots', () => {
  it('survives SIGKILL of the scheduler and then of the compute agent while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('kill', 20);

    await events.next('HostSelected', ids, { from });
    await system.scheduler.kill9();
    await expectInFlight('SIGKILL of the scheduler', ids);
    await system.scheduler.restart();

    const afterRestart = events.mark();
    await events.next('DomainStarted', ids, { from: afterRestart });
    await system.compute.kill9();
    await expectInFlight('SIGKILL of the compute agent', ids);
    await system.compute.restart();

    await expectAllActiveAndNothingDoubled();
  }, 400_000);

  it('survives every SSH connection to the hosts being cut while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('ssh', 8);

    await events.next('DomainStarted', ids, { from });
    expect(await dropSshSessions(system.rigDir)).toBeGreaterThan(0);
    await expectInFlight('cutting every SSH connection', ids);

    await expectAllActiveAndNothingDoubled();
  }, 400_000);

  it('survives nats-server killed and restarted with its JetStream data wiped while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('nats', 10);

    await events.next('HostSelected', ids, { from });
    await system.nats.kill9();
    rmSync(join(system.nats.storeDir, 'jetstream'), { recursive: true, force: true });
    await expectInFlight('SIGKILL of nats-server', ids);
    await system.nats.restart();

    await expectAllActiveAndNothingDoubled();
  }, 400_000);
});
