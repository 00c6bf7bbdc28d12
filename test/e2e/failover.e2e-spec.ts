/**
 * Failing over, on real libvirt over SSH, every boot through the REST API. Compute agents share the
 * hypervisor hosts out between them, one each here:
 * each host is driven by the one agent holding its lease. An agent killed with SIGKILL while boots are
 * in flight has its hosts taken over by another within seconds, and their servers stay managed (the
 * burst ends ACTIVE, started once, a stop and deletes are carried out). An agent stopped with SIGSTOP
 * past its lease while it had builds in hand, and resumed after another agent took its hosts, acts on
 * them no more: it holds no host, the fence refuses the work it had in hand, it appends nothing to the
 * hosts' streams, and every server still ends with exactly one domain, started once; it takes a share
 * of the hosts again only after sitting out five times the lease's time to live.
 * Two schedulers run, one relay active among them: when the active one is killed with SIGKILL the
 * other's relay takes over within seconds and boots go on. The take-over times are printed.
 */
import { streamFor } from '#libs/contracts';

import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually, sleep } from '../support/eventually.js';
import type { InstanceEvents } from '../support/instance-events.js';
import type { ManagedProcess } from '../support/managed-process.js';
import { acceptedBurst, serverWithStatus } from '../support/servers.js';
import { type FaultRig, type SettledSystem, startFaultRig } from '../support/settled-system.js';
import { collect } from '../support/streams.js';
import { type NimbusSystem, startApp } from '../support/system.js';

const LEASE_TTL_MS = 3_000;
const SYNC_INTERVAL_MS = 2_000;

let rig: FaultRig;
let system: NimbusSystem;
let os: OpenStackHttp;
let events: InstanceEvents;
let settled: SettledSystem;
let hosts: string[];
/** The processes this suite started beside the system's (agents, a second scheduler). */
const agents: ManagedProcess[] = [];

/** Another agent on the system's hosts, under its own id and with its own vCPU cap (its signature). */
async function startAgent(id: string, maxVcpus: number): Promise<ManagedProcess> {
  const agent = await startApp(
    'compute',
    {
      ...system.computeEnv,
      NIMBUS_COMPUTE_AGENT_ID: id,
      NIMBUS_COMPUTE_MAX_VCPUS: String(maxVcpus),
      NIMBUS_COMPUTE_HEALTH_PORT: '0',
    },
    60_000,
    'NIMBUS_COMPUTE_HEALTH_PORT',
  );
  agents.push(agent);
  return agent;
}

/** Whether a scheduler's relay is the active one, and how many events it published. */
async function relayOf(scheduler: ManagedProcess): Promise<{ active: boolean; published: number }> {
  const response = await fetch(`http://127.0.0.1:${scheduler.port}/healthz`);
  return ((await response.json()) as { relay: { active: boolean; published: number } }).relay;
}

async function heldBy(agent: ManagedProcess): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${agent.port}/healthz`);
  const body = (await response.json()) as { hosts?: string[] };
  return [...(body.hosts ?? [])].sort();
}

/** Waits until the agents hold one host each. */
async function sharedOut(...sharing: ManagedProcess[]): Promise<void> {
  await eventually(
    'the hosts shared out',
    async () => {
      const held = await Promise.all(sharing.map(heldBy));
      return held.every((share) => share.length === 1) && held.flat().sort().join() === hosts.join()
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

/** Waits until `agent` holds every host; how long that took from `since`. */
async function takenOver(agent: ManagedProcess, since: number): Promise<number> {
  await eventually(
    'the hosts taken over',
    async () => (JSON.stringify(await heldBy(agent)) === JSON.stringify(hosts) ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  return Date.now() - since;
}

/** Each host's stream revision now. */
async function hostRevisions(): Promise<Map<string, bigint>> {
  const revisions = new Map<string, bigint>();
  for (const host of hosts) {
    const events = await collect(system.store.read(streamFor('host', host)));
    revisions.set(host, events.at(-1)?.revision ?? -1n);
  }
  return revisions;
}

/** The vCPUs each host's inventory last said, by host. */
async function reportedVcpus(): Promise<(number | undefined)[]> {
  return Promise.all(
    hosts.map(async (host) => {
      const reports = (await collect(system.store.read(streamFor('host', host)))).filter(
        (event) => event.type === 'InventoryReported',
      );
      return (reports.at(-1)?.data as { vcpus: number } | undefined)?.vcpus;
    }),
  );
}

/** Every server the suite booted and did not delete: the settled check covers all of them. */
const alive: string[] = [];

function burst(name: string, count: number): Promise<string[]> {
  return acceptedBurst(os, name, count, alive);
}

beforeAll(async () => {
  rig = await startFaultRig({
    rigHosts: 2,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
    schedulerEnv: {
      NIMBUS_SCHEDULER_ID: 'scheduler-a',
      NIMBUS_SCHEDULER_RELAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
    computeEnv: {
      NIMBUS_COMPUTE_AGENT_ID: 'compute-a',
      NIMBUS_COMPUTE_LEASE_TTL_MS: String(LEASE_TTL_MS),
      NIMBUS_COMPUTE_SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS),
      NIMBUS_COMPUTE_MAX_VCPUS: '2',
    },
  });
  ({ system, os, events, settled } = rig);
  hosts = system.rig!.hosts.map((host) => host.name).sort();
}, 180_000);

afterAll(async () => {
  for (const agent of agents) {
    // A test that failed while an agent was paused must not leave it paused: it could not stop.
    process.kill(agent.pid, 'SIGCONT');
    await agent.stop();
  }
  await rig.stop();
}, 120_000);

describe('compute agents sharing hosts', () => {
  it('takes the hosts of an agent killed with SIGKILL over within seconds, and keeps their servers managed', async () => {
    const standby = await startAgent('compute-b', 1);
    await sharedOut(system.compute, standby);

    const from = events.mark();
    const ids = await burst('failover', 6);
    await events.next('HostSelected', ids, { from });
    const killedAt = Date.now();
    await system.compute.kill9();
    await settled.expectInFlight('SIGKILL of the agent driving the hosts', ids);
    const takeOverMs = await takenOver(standby, killedAt);
    process.stdout.write(`agent take-over after SIGKILL: ${takeOverMs} ms (lease ${LEASE_TTL_MS} ms)\n`);

    await settled.expectAllActiveAndNothingDoubled(alive);
    // The standby reported its own inventory when it took the hosts up.
    expect(await reportedVcpus()).toEqual(hosts.map(() => 1));

    // Its servers stay managed: a stop and two deletes are carried out by the agent that took over.
    const [deleted, stopped] = [ids[0]!, ids[1]!];
    expect((await os.compute('POST', `/servers/${stopped}/action`, { 'os-stop': null })).status).toBe(202);
    await serverWithStatus(os, stopped, 'SHUTOFF', 120_000);
    for (const id of [deleted, stopped]) {
      expect((await os.compute('DELETE', `/servers/${id}`)).status).toBe(204);
      alive.splice(alive.indexOf(id), 1);
    }
    await eventually('both deletes done', async () => {
      const shown = await Promise.all([deleted, stopped].map((id) => os.compute('GET', `/servers/${id}`)));
      return shown.every((reply) => reply.status === 404) ? true : undefined;
    });
  }, 400_000);

  it('leaves an agent paused past its lease acting on nothing once it wakes after another took its hosts', async () => {
    const [paused] = agents;
    expect(await heldBy(paused!)).toEqual(hosts);
    const successor = await startAgent('compute-c', 2);
    await sharedOut(paused!, successor);

    const from = events.mark();
    const ids = await burst('fence', 6);
    await events.next('HostSelected', ids, { from });
    // Paused once it has builds in hand (making a domain over SSH takes seconds here).
    await sleep(500);
    const pausedAt = Date.now();
    process.kill(paused!.pid, 'SIGSTOP');
    await settled.expectInFlight('SIGSTOP of the agent driving the hosts', ids);
    const takeOverMs = await takenOver(successor, pausedAt);
    process.stdout.write(`agent take-over after SIGSTOP: ${takeOverMs} ms (lease ${LEASE_TTL_MS} ms)\n`);
    await eventually('the successor reported its inventory', async () =>
      JSON.stringify(await reportedVcpus()) === JSON.stringify(hosts.map(() => 2)) ? true : undefined,
    );

    const beforeWaking = await hostRevisions();
    const wokenAt = paused!.output().length;
    const wokeAtMs = Date.now();
    process.kill(paused!.pid, 'SIGCONT');
    // Long enough for every timer of the woken agent to have run, its sweep several times over.
    await sleep(3 * SYNC_INTERVAL_MS + LEASE_TTL_MS);

    expect(await heldBy(paused!)).toEqual([]);
    expect(await heldBy(successor)).toEqual(hosts);
    const afterWaking = paused!.output().slice(wokenAt);
    expect(afterWaking).toMatch(/is no longer this agent's/);
    // The work it had in hand when it was paused was refused by the fence, not done.
    expect(afterWaking).toMatch(/does not hold the lease on/);
    // Nothing was appended to the hosts' streams but the scheduler's claims: no registration, no inventory.
    for (const host of hosts) {
      const later = (await collect(system.store.read(streamFor('host', host)))).filter(
        (event) => event.revision > beforeWaking.get(host)!,
      );
      expect(later.map((event) => event.type).filter((type) => !type.startsWith('Resources'))).toEqual([]);
    }
    expect(await reportedVcpus()).toEqual(hosts.map(() => 2));

    // Having sat out, it takes its share again: handed one host by the successor.
    await sharedOut(paused!, successor);
    process.stdout.write(`paused agent sharing again ${Date.now() - wokeAtMs} ms after waking\n`);

    await settled.expectAllActiveAndNothingDoubled(alive);
  }, 400_000);

  it("moves the relay to another scheduler within seconds when the active one's is killed, and boots go on", async () => {
    const standby = await startApp(
      'scheduler',
      { ...system.schedulerEnv, NIMBUS_SCHEDULER_ID: 'scheduler-b', NIMBUS_SCHEDULER_HEALTH_PORT: '0' },
      60_000,
      'NIMBUS_SCHEDULER_HEALTH_PORT',
    );
    agents.push(standby);
    expect(await relayOf(system.scheduler)).toMatchObject({ active: true });
    expect(await relayOf(standby)).toEqual({ active: false, published: 0, duplicates: 0 });

    const killedAt = Date.now();
    await system.scheduler.kill9();
    await eventually(
      'the standby relaying',
      async () => ((await relayOf(standby)).active ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 50,
      },
    );
    const failoverMs = Date.now() - killedAt;
    process.stdout.write(`relay take-over after SIGKILL: ${failoverMs} ms (lease ${LEASE_TTL_MS} ms)\n`);

    await burst('relay', 4);
    await settled.expectAllActiveAndNothingDoubled(alive);
    expect((await relayOf(standby)).published).toBeGreaterThan(0);
  }, 400_000);
});
