/**
 * `npm run up -- --cluster` on two rig hosts: three NATS nodes in a JetStream cluster, two API replicas
 * and two console proxies behind haproxy, two schedulers and two compute agents. During a burst of 30
 * boots through the balancer, one NATS node, one API replica, the scheduler whose relay is active and
 * one of the compute agents (which share the two hosts out, one each) are each killed with SIGKILL,
 * one after another while boots are in flight: every server ends ACTIVE, started once, with one domain
 * on its host and one claim there, and nothing else runs. The relay's and the agent's take-over times
 * are printed. `down --purge` then
 * stops every process `up` started. Its own state folder, rig prefix and free ports.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { EventStore } from '#libs/event-store';

import { VirshDriver, hostConfigsFromInventory } from '../../apps/compute/src/hypervisor/index.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { partsFor } from '../../deploy/local/parts.js';
import { type RunRecord, Supervisor } from '../../deploy/local/supervisor.js';
import { readInventory } from '../../deploy/rig/rig.js';
import { eventually } from '../support/eventually.js';
import { InstanceEvents } from '../support/instance-events.js';
import { alive, envOf, nimbusCommand } from '../support/local-up.js';
import { acceptedBurst } from '../support/servers.js';
import { SettledSystem } from '../support/settled-system.js';

const workDir = mkdtempSync(join(tmpdir(), 'nimbus-cluster-'));
const stateDir = join(workDir, 'state');
const rigPrefix = `c${randomUUID().slice(0, 5)}`;

function nimbus(command: 'up' | 'down', ...args: string[]): Promise<string> {
  return nimbusCommand(stateDir, command, args, 300_000);
}

let supervisor: Supervisor;
let client: EventStoreDBClient | undefined;
let events: InstanceEvents | undefined;
let virsh: VirshDriver | undefined;
let os: OpenStackHttp;
let settled: SettledSystem;
let pids: string[] = [];
/** The rig's hosts, by name. */
let hosts: string[] = [];

async function record(name: string): Promise<RunRecord> {
  const found = await supervisor.running(name);
  if (!found) throw new Error(`${name} is not running`);
  return found;
}

async function health(name: string): Promise<Record<string, unknown>> {
  const { details } = await record(name);
  const response = await fetch(`http://127.0.0.1:${String(details['healthPort'])}/healthz`);
  return (await response.json()) as Record<string, unknown>;
}

async function kill9(name: string): Promise<void> {
  const { pid } = await record(name);
  process.kill(pid, 'SIGKILL');
  await eventually(`${name} gone`, () => (alive(String(pid)) ? undefined : true));
}

/** Waits until `check` holds; how long that took from `since`. */
async function takeOver(what: string, since: number, check: () => Promise<boolean>): Promise<number> {
  await eventually(what, async () => ((await check()) ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  return Date.now() - since;
}

beforeAll(async () => {
  const stdout = await nimbus('up', '--cluster', '--hosts', '2', '--rig-prefix', rigPrefix);
  const parts = [...stdout.matchAll(/^ {2}(\S+)\s+started\s/gm)].map((match) => match[1]);
  expect(parts).toEqual(
    partsFor({ driver: 'libvirt', dashboard: false, cluster: true }).map((part) => part.name),
  );
  expect(parts).toContain('balancer');
  supervisor = new Supervisor(stateDir);
  pids = supervisor.records().map((each) => String(each.pid));
  expect(pids.length).toBe(13);

  const env = envOf(join(stateDir, 'env'));
  expect(env['NATS_URL']?.split(',')).toHaveLength(3);
  const { adminPassword } = JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as {
    adminPassword: string;
  };
  os = await OpenStackHttp.login(env['API_URL']!, {
    user: 'admin',
    password: adminPassword,
    project: 'admin',
  });
  // The default quota (10 instances, 20 cores) would refuse the burst before any fault.
  const unlimited = await os.compute('PUT', `/os-quota-sets/${os.projectId}`, {
    quota_set: { instances: -1, cores: -1, ram: -1 },
  });
  expect(unlimited.status).toBe(200);
  client = EventStoreDBClient.connectionString(env['EVENTSTORE_URL']!);
  events = await InstanceEvents.watch(client);
  const inventory = await readInventory(join(stateDir, 'rig'));
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(inventory) });
  hosts = inventory.hosts.map((host) => host.name).sort();
  settled = new SettledSystem({ store: new EventStore(client), hosts }, os, virsh);
}, 400_000);

afterAll(async () => {
  await events?.stop();
  await virsh?.close();
  await client?.dispose();
  await nimbus('down', '--purge').catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}, 180_000);

describe('up --cluster', () => {
  it('boots a burst to ACTIVE while a NATS node, an API replica, the active relay and an agent are killed', async () => {
    const relays = await Promise.all(
      ['scheduler-1', 'scheduler-2'].map(async (name) => ({
        name,
        active: ((await health(name))['relay'] as { active: boolean }).active,
      })),
    );
    expect(relays.filter((relay) => relay.active)).toHaveLength(1);
    const activeRelay = relays.find((relay) => relay.active)!.name;
    const standbyRelay = relays.find((relay) => !relay.active)!.name;
    const held = async (name: string): Promise<string[]> =>
      [...((await health(name))['hosts'] as string[])].sort();
    // The agents share the hosts out, one each (the second handed its share within a round of starting).
    const shares = async (): Promise<string[][]> => Promise.all(['compute-1', 'compute-2'].map(held));
    await eventually('the hosts shared out', async () =>
      (await shares()).every((share) => share.length === 1) ? true : undefined,
    );
    expect((await shares()).flat().sort()).toEqual(hosts);
    const [killedAgent, survivingAgent] = ['compute-1', 'compute-2'];

    const booted: string[] = [];
    const from = events!.mark();
    const ids = await acceptedBurst(os, 'cluster', 30, booted);

    await events!.next('HostSelected', ids, { from });
    await kill9('nats-2');
    await kill9('api-1');
    await settled.expectInFlight('SIGKILL of a NATS node and an API replica', ids);

    const relayKilledAt = Date.now();
    await kill9(activeRelay);
    await settled.expectInFlight('SIGKILL of the active relay', ids);
    const relayFailoverMs = await takeOver('the standby relaying', relayKilledAt, async () => {
      return ((await health(standbyRelay))['relay'] as { active: boolean }).active;
    });

    const agentKilledAt = Date.now();
    await kill9(killedAgent);
    await settled.expectInFlight('SIGKILL of an agent', ids);
    const agentFailoverMs = await takeOver('the other agent driving both hosts', agentKilledAt, async () => {
      return JSON.stringify(await held(survivingAgent)) === JSON.stringify(hosts);
    });
    process.stdout.write(
      `relay take-over ${relayFailoverMs} ms, agent take-over ${agentFailoverMs} ms (leases 6000 ms)\n`,
    );

    await settled.expectAllActiveAndNothingDoubled(booted);
  }, 600_000);

  it('stops every process it started on down', async () => {
    await nimbus('down', '--purge');
    expect(pids.filter((pid) => alive(pid))).toEqual([]);
  }, 180_000);
});
