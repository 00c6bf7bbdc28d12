/**
 * The guarantees under fire, on real libvirt over SSH: during bursts of boots the scheduler and the
 * compute agent are killed with SIGKILL and restarted, every SSH connection to the hosts is cut,
 * and nats-server is killed and restarted with its JetStream data wiped. Afterwards every accepted
 * request has ended ACTIVE or ERROR, no domain was started twice, no domain runs that the store
 * does not know, and every claim belongs to a live instance on that host.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { streamFor } from '#libs/contracts';
import { type InstanceState, decideBoot, hostReducer, instanceReducer, serverStatus } from '#libs/domain';

import { dropSshSessions } from '../../deploy/rig/rig.js';
import { VirshDriver, hostConfigsFromInventory } from '../../apps/compute/src/hypervisor/index.js';
import { bootCommand, userContext } from '../support/instances.js';
import { eventually, sleep } from '../support/eventually.js';
import { collect } from '../support/streams.js';
import { type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let virsh: VirshDriver;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 3 });
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
}, 180_000);

afterAll(async () => {
  await virsh.close();
  await system.stop();
}, 120_000);

/** Every instance booted in this file: the hosts carry all of them, not just the latest burst's. */
const everyInstance: string[] = [];

async function burst(count: number): Promise<string[]> {
  const commands = Array.from({ length: count }, () =>
    bootCommand({ image: { id: system.bootImageId, name: 'boot', properties: {} } }),
  );
  await Promise.all(
    commands.map((command) =>
      system.store.execute(
        streamFor('instance', command.instanceId),
        instanceReducer,
        (state) => decideBoot(state, command),
        userContext(),
      ),
    ),
  );
  const ids = commands.map((command) => command.instanceId);
  everyInstance.push(...ids);
  return ids;
}

async function settled(ids: readonly string[]): Promise<InstanceState[]> {
  return eventually(
    `all ${ids.length} instances ACTIVE or ERROR`,
    async () => {
      const states = await Promise.all(
        ids.map(async (id) => (await system.store.fold(streamFor('instance', id), instanceReducer)).state),
      );
      return states.every((state) => ['ACTIVE', 'ERROR'].includes(serverStatus(state))) ? states : undefined;
    },
    240_000,
  );
}

/** The invariants that must hold once everything has settled. */
async function expectConsistent(ids: readonly string[]): Promise<void> {
  await settled(ids);
  const states = await settled(everyInstance);
  // No domain was started twice: one DomainStarted (boot) per instance at most.
  for (const id of everyInstance) {
    const events = await collect(system.store.read(streamFor('instance', id)));
    expect(events.filter((event) => event.type === 'DomainStarted').length).toBeLessThanOrEqual(1);
  }
  const active = new Map(
    states.filter((state) => serverStatus(state) === 'ACTIVE').map((state) => [state.id, state.host]),
  );
  // Wait for the power sync to have removed anything a crash left behind, then check every host.
  await eventually(
    'the running domains of each host to be its ACTIVE instances',
    async () => {
      for (const host of system.rig!.hosts) {
        const domains = (await virsh.listDomains(host.name)).filter((domain) => domain.instanceId !== null);
        for (const domain of domains) if (active.get(domain.instanceId!) !== host.name) return undefined;
        const running = domains
          .filter((domain) => domain.powerState === 'running')
          .map((domain) => domain.instanceId);
        const expected = [...active].filter(([, placed]) => placed === host.name).map(([id]) => id);
        if (running.length !== expected.length) return undefined;
      }
      return true;
    },
    60_000,
  );
  // No claim leaks: a host holds claims for exactly the ACTIVE instances placed on it.
  await eventually(
    'the claims of each host to be its ACTIVE instances',
    async () => {
      for (const host of system.rig!.hosts) {
        const { state } = await system.store.fold(streamFor('host', host.name), hostReducer);
        const claimed = Object.keys(state.allocations).sort();
        const expected = [...active]
          .filter(([, placed]) => placed === host.name)
          .map(([id]) => id)
          .sort();
        if (JSON.stringify(claimed) !== JSON.stringify(expected)) return undefined;
      }
      return true;
    },
    30_000,
  );
  expect(states.filter((state) => serverStatus(state) === 'ACTIVE').length).toBeGreaterThan(0);
}

describe('faults during bursts of boots', () => {
  it('survives SIGKILL of the scheduler and then the compute agent', async () => {
    const ids = await burst(20);
    await sleep(300);
    await system.scheduler.kill9();
    await sleep(1_000);
    await system.scheduler.restart();
    await sleep(1_500);
    await system.compute.kill9();
    await sleep(1_000);
    await system.compute.restart();
    await expectConsistent(ids);
  }, 400_000);

  it('survives every SSH connection to the hosts being cut mid-boot', async () => {
    const ids = await burst(8);
    await sleep(1_000);
    expect(await dropSshSessions(system.rigDir)).toBeGreaterThan(0);
    await expectConsistent(ids);
  }, 400_000);

  it('survives nats-server killed and restarted with its JetStream data wiped', async () => {
    const ids = await burst(10);
    await sleep(200);
    await system.nats.kill9();
    rmSync(join(system.nats.storeDir, 'jetstream'), { recursive: true, force: true });
    await sleep(500);
    await system.nats.restart();
    await expectConsistent(ids);
  }, 400_000);
});
