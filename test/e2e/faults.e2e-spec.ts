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

import { dropSshSessions } from '../../deploy/rig/rig.js';
import type { InstanceEvents } from '../support/instance-events.js';
import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { acceptedBurst } from '../support/servers.js';
import { type FaultRig, type SettledSystem, startFaultRig } from '../support/settled-system.js';
import type { NimbusSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;
let events: InstanceEvents;
let settled: SettledSystem;
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig({
    rigHosts: 3,
    api: true,
    // The default quota (10 instances, 20 cores) would refuse a burst of 20 before any fault.
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  ({ system, os, events, settled } = rig);
}, 180_000);

afterAll(() => rig.stop(), 120_000);

/** Every server booted in this file: each test checks all of them, not just its own burst's. */
const everyServer: string[] = [];

/** Posts `count` boots of m1.nano at once through the compute API; every one must be accepted. */
function burst(name: string, count: number): Promise<string[]> {
  return acceptedBurst(os, name, count, everyServer);
}

describe('faults during bursts of boots', () => {
  it('survives SIGKILL of the scheduler and then of the compute agent while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('kill', 20);

    await events.next('HostSelected', ids, { from });
    await system.scheduler.kill9();
    await settled.expectInFlight('SIGKILL of the scheduler', ids);
    await system.scheduler.restart();

    const afterRestart = events.mark();
    await events.next('DomainStarted', ids, { from: afterRestart });
    await system.compute.kill9();
    await settled.expectInFlight('SIGKILL of the compute agent', ids);
    await system.compute.restart();

    await settled.expectAllActiveAndNothingDoubled(everyServer);
  }, 400_000);

  it('survives every SSH connection to the hosts being cut while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('ssh', 8);

    // Cut as soon as the first build reaches its host: the domains are being made over SSH then.
    await events.next('HostSelected', ids, { from });
    expect(await dropSshSessions(system.rigDir)).toBeGreaterThan(0);
    await settled.expectInFlight('cutting every SSH connection', ids);

    await settled.expectAllActiveAndNothingDoubled(everyServer);
  }, 400_000);

  it('survives nats-server killed and restarted with its JetStream data wiped while boots are in flight', async () => {
    const from = events.mark();
    const ids = await burst('nats', 10);

    await events.next('HostSelected', ids, { from });
    await system.nats.kill9();
    rmSync(join(system.nats.storeDir, 'jetstream'), { recursive: true, force: true });
    await settled.expectInFlight('SIGKILL of nats-server', ids);
    await system.nats.restart();

    await settled.expectAllActiveAndNothingDoubled(everyServer);
  }, 400_000);
});
