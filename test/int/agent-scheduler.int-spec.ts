/**
 * The compute agent and the scheduler driving instances through a real event store, with the
 * clearly named fake hypervisor standing in for libvirt (the libvirt adapter has its own suite on
 * the rig): boot to ACTIVE, stop, start, reboot, delete; a failed build; a build cut off by the
 * agent's own shutdown; a redelivered trigger; a
 * delete that arrives while the build is under way; a build whose host's lease lapsed under it (the
 * fence); the power sync's verdicts; and consoles that
 * end whenever the VNC server they point at does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { streamFor } from '#libs/contracts';
import { ClusterView } from '#libs/cluster-view';
import {
  ConflictingState,
  consoleReducer,
  decideBoot,
  decideDelete,
  decideReboot,
  decideStart,
  decideStop,
  type InstanceState,
  hostReducer,
  instanceReducer,
  serverStatus,
} from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { AgentStopping, ComputeAgent } from '../../apps/compute/src/agent/compute-agent.js';
import { FencedDriver } from '../../apps/compute/src/agent/fenced-driver.js';
import { HostNotOwned } from '../../apps/compute/src/agent/host-ownership.js';
import { registerHost } from '../../apps/compute/src/agent/host-registry.js';
import {
  DirectoryImageResolver,
  type ImageResolver,
  ImageServiceUnreachable,
} from '../../apps/compute/src/agent/image-resolver.js';
import { PowerSync } from '../../apps/compute/src/agent/power-sync.js';
import { ConsoleService } from '../../apps/compute/src/commands/console.service.js';
import {
  FakeHypervisorDriver,
  HostUnreachable,
  domainNameOf,
} from '../../apps/compute/src/hypervisor/index.js';
import { tinyQcow2 } from '../../apps/compute/src/hypervisor/testing/images.js';
import { FILTERS } from '../../apps/scheduler/src/filters/index.js';
import { HostLiveness } from '#libs/bus';
import { SchedulerService } from '../../apps/scheduler/src/placement/scheduler.service.js';
import { WEIGHERS } from '../../apps/scheduler/src/weighers/index.js';
import { type EventStoreProcess, startEventStoreProcess } from '../support/event-store-process.js';
import { bootCommand, userContext } from '../support/instances.js';
import { eventually, sleep } from '../support/eventually.js';
import { collect } from '../support/streams.js';

const HOSTS = ['sim-a', 'sim-b'];
const policy = {
  availabilityZone: 'nova',
  vcpuAllocationRatio: 1,
  ramAllocationRatio: 1,
  diskAllocationRatio: 1,
  reservedVcpus: 0,
  reservedRamMb: 0,
  reservedDiskGb: 0,
  maxVcpus: 8,
  maxRamMb: 1024,
  maxDiskGb: 50,
};
const service = {
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'compute', projectId: null, kind: 'service' as const },
};

let server: EventStoreProcess;
let client: EventStoreDBClient;
let store: EventStore;
let view: ClusterView;
let driver: FakeHypervisorDriver;
let agent: ComputeAgent;
let scheduler: SchedulerService;
let imagesDir: string;
const imageId = randomUUID();

beforeAll(async () => {
  server = await startEventStoreProcess();
  client = EventStoreDBClient.connectionString(server.connectionString);
  store = new EventStore(client);
  imagesDir = await mkdtemp(path.join(tmpdir(), 'nimbus-agent-images-'));
  await writeFile(path.join(imagesDir, `${imageId}.qcow2`), tinyQcow2());
  driver = new FakeHypervisorDriver({ hosts: HOSTS });
  for (const host of HOSTS)
    await registerHost(
      store,
      driver,
      { name: host, hypervisorType: 'qemu', cpuArch: 'x86_64' },
      policy,
      service,
    );
  view = new ClusterView(client, 'agent-test');
  await view.start();
  const liveness = new HostLiveness(60_000);
  HOSTS.forEach((host) => liveness.heard(host));
  scheduler = new SchedulerService(store, view, liveness, {
    policy: {
      filters: FILTERS,
      weighers: WEIGHERS.map((weigher) => ({ weigher, multiplier: 1 })),
      alternates: 1,
    },
    maxAttempts: 2,
  });
  agent = new ComputeAgent(store, driver, new DirectoryImageResolver(imagesDir), {
    hosts: HOSTS,
    powerOffTimeoutMs: 50,
  });
});

afterAll(async () => {
  await view.stop();
  await driver.close();
  await client.dispose();
  await server.stop();
  await rm(imagesDir, { recursive: true, force: true });
});

const instance = async (id: string) => (await store.fold(streamFor('instance', id), instanceReducer)).state;
const user = userContext();

/** A boot of the seeded image, requested and placed by the scheduler; no agent has acted yet. */
async function placed(): Promise<string> {
  const command = bootCommand({ image: { id: imageId, name: 'boot', properties: {} } });
  await store.execute(
    streamFor('instance', command.instanceId),
    instanceReducer,
    (state) => decideBoot(state, command),
    user,
  );
  await scheduler.drive(command.instanceId);
  return command.instanceId;
}

async function bootActive(): Promise<string> {
  const id = await placed();
  await agent.drive(id);
  return id;
}

async function request(id: string, decide: (state: InstanceState) => object[]): Promise<void> {
  await store.execute(streamFor('instance', id), instanceReducer, decide, user);
  await agent.drive(id);
}

describe('ComputeAgent with the scheduler', () => {
  it('registers each host once with its capped inventory', async () => {
    for (const host of HOSTS) {
      const again = await registerHost(
        store,
        driver,
        { name: host, hypervisorType: 'qemu', cpuArch: 'x86_64' },
        policy,
        service,
      );
      expect(again).toEqual({ registered: false, inventoryChanged: false });
      const { state } = await store.fold(streamFor('host', host), hostReducer);
      expect(state.inventory).toMatchObject({ vcpus: 8, ramMb: 1024, diskGb: 50 });
    }
  });

  it('boots to ACTIVE with a running domain on the chosen host', async () => {
    const id = await bootActive();
    const state = await instance(id);
    expect(serverStatus(state)).toBe('ACTIVE');
    expect(await driver.powerState(state.host!, domainNameOf(id))).toBe('running');
  });

  it('links every event to the request and to the event it reacted to', async () => {
    const id = await bootActive();
    const [booted, selected, started] = await collect(store.read(streamFor('instance', id)));
    expect([booted?.type, selected?.type, started?.type]).toEqual([
      'BootRequested',
      'HostSelected',
      'DomainStarted',
    ]);
    expect(selected?.metadata).toMatchObject({
      correlationId: booted?.metadata.correlationId,
      causationId: booted?.metadata.eventId,
      actor: { userId: 'scheduler', kind: 'service' },
    });
    expect(started?.metadata).toMatchObject({
      correlationId: booted?.metadata.correlationId,
      causationId: selected?.metadata.eventId,
      actor: { userId: 'compute', kind: 'service' },
    });
  });

  it('stops, starts and reboots as the stream asks', async () => {
    const id = await bootActive();
    await request(id, (state) => decideStop(state, id));
    expect(serverStatus(await instance(id))).toBe('SHUTOFF');
    await request(id, (state) => decideStart(state, id));
    expect(serverStatus(await instance(id))).toBe('ACTIVE');
    await request(id, (state) => decideReboot(state, id, 'SOFT'));
    const rebooted = await instance(id);
    expect(serverStatus(rebooted)).toBe('ACTIVE');
    expect(rebooted.actions.map((action) => [action.action, action.result])).toEqual([
      ['create', 'Success'],
      ['stop', 'Success'],
      ['start', 'Success'],
      ['reboot', 'Success'],
    ]);
  });

  it('deletes the domain and its files', async () => {
    const id = await bootActive();
    const { host } = await instance(id);
    await request(id, (state) => decideDelete(state, id));
    expect(serverStatus(await instance(id))).toBe('DELETED');
    expect(await driver.powerState(host!, domainNameOf(id))).toBe('absent');
    expect(driver.instanceFilesOf(host!, id)).toEqual([]);
  });

  it('does nothing more for a redelivered trigger', async () => {
    const id = await bootActive();
    const before = await store.fold(streamFor('instance', id), instanceReducer);
    await expect(agent.drive(id)).resolves.toBe('nothing-to-do');
    expect((await store.fold(streamFor('instance', id), instanceReducer)).revision).toBe(before.revision);
  });

  it('records a failed build and the scheduler moves it to the other host', async () => {
    const command = bootCommand({ image: { id: randomUUID(), name: 'missing', properties: {} } });
    const id = command.instanceId;
    await store.execute(
      streamFor('instance', id),
      instanceReducer,
      (state) => decideBoot(state, command),
      user,
    );
    await scheduler.drive(id);
    await expect(agent.drive(id)).resolves.toBe('failed');
    const failed = await instance(id);
    expect(failed.failedHosts).toHaveLength(1);

    await scheduler.drive(id);
    await agent.drive(id);
    await scheduler.drive(id);
    const final = await instance(id);
    expect(serverStatus(final)).toBe('ERROR');
    expect(final.fault?.message).toContain('Exceeded maximum number of retries');
  });

  it('leaves a build cut off by its own shutdown due for the next agent, and records no failure', async () => {
    // A host whose spawn hangs until the test cuts it, as closing the SSH sessions does on shutdown.
    let cut: ((error: Error) => void) | undefined;
    const hanging = new FakeHypervisorDriver({
      hosts: HOSTS,
      latencyMs: { spawn: 1 },
      sleep: () =>
        new Promise((_resolve, reject) => {
          cut = reject;
        }),
    });
    const leaving = new ComputeAgent(store, hanging, new DirectoryImageResolver(imagesDir), {
      hosts: HOSTS,
      powerOffTimeoutMs: 50,
    });
    const id = await placed();
    const building = leaving.drive(id);
    const cutOff = await eventually('the build under way on the host', () => cut);

    await expect(leaving.stop(10)).resolves.toBe(1);
    await expect(leaving.drive(id)).rejects.toThrow(AgentStopping);
    cutOff(new HostUnreachable((await instance(id)).host ?? '', 'the connection was closed'));
    await expect(building).resolves.toBe('interrupted');
    const types = (await collect(store.read(streamFor('instance', id)))).map((event) => event.type);
    expect(types).not.toContain('DomainStartFailed');
    expect((await instance(id)).failedHosts).toEqual([]);

    await expect(agent.drive(id)).resolves.toBe('done');
    expect(serverStatus(await instance(id))).toBe('ACTIVE');
    await hanging.close();
  });

  it('records nothing and changes nothing on a host once its lease is no longer held (the fence)', async () => {
    let owned = true;
    const fence = { owns: () => owned };
    let finishSpawn: (() => void) | undefined;
    const slow = new FakeHypervisorDriver({
      hosts: HOSTS,
      latencyMs: { spawn: 1 },
      sleep: () =>
        new Promise<void>((resolve) => {
          finishSpawn = resolve;
        }),
    });
    const fenced = new FencedDriver(slow, fence);
    const stale = new ComputeAgent(store, fenced, new DirectoryImageResolver(imagesDir), {
      hosts: HOSTS,
      powerOffTimeoutMs: 50,
      fence,
    });
    const id = await placed();
    const host = (await instance(id)).host!;
    const building = stale.drive(id);
    const finish = await eventually('the build under way on the host', () => finishSpawn);

    // The lease lapses while the domain is being made; the build then finishes on the host.
    owned = false;
    finish();
    await expect(building).resolves.toBe('not-mine');
    const types = (await collect(store.read(streamFor('instance', id)))).map((event) => event.type);
    expect(types).not.toContain('DomainStarted');
    expect(types).not.toContain('DomainStartFailed');
    // Nothing more of the host's is changed by this agent, and nothing is recorded for it.
    await expect(fenced.destroy(host, domainNameOf(id))).rejects.toBeInstanceOf(HostNotOwned);
    expect(await slow.powerState(host, domainNameOf(id))).toBe('running');
    const report = await new PowerSync(store, fenced, stale).syncHost(host, [id], `req-${randomUUID()}`);
    expect(report).toMatchObject({ changed: [], stopped: [], destroyed: [] });
    await expect(stale.drive(id)).resolves.toBe('not-mine');

    // The host's owner does the work.
    await expect(agent.drive(id)).resolves.toBe('done');
    expect(serverStatus(await instance(id))).toBe('ACTIVE');
    await slow.close();
    // Its room on the host is given back for the tests after this one.
    await request(id, (state) => decideDelete(state, id));
    await scheduler.drive(id);
  });

  it('waits for an image service that cannot be reached instead of failing the build on the host', async () => {
    const files = new DirectoryImageResolver(imagesDir);
    let reachable = false;
    const images: ImageResolver = {
      resolve: (id) =>
        reachable ? files.resolve(id) : Promise.reject(new ImageServiceUnreachable('fetch failed')),
    };
    const patient = new ComputeAgent(store, driver, images, { hosts: HOSTS, powerOffTimeoutMs: 50 });
    const impatient = new ComputeAgent(store, driver, images, {
      hosts: HOSTS,
      powerOffTimeoutMs: 50,
      imageServiceWaitMs: 0,
    });
    const waiting = await placed();
    const givenUp = await placed();
    await sleep(5);

    await expect(patient.drive(waiting)).resolves.toBe('interrupted');
    expect((await instance(waiting)).failedHosts).toEqual([]);
    // Past the wait, the build fails, and not as a fault of the host worth another try elsewhere.
    await expect(impatient.drive(givenUp)).resolves.toBe('failed');
    const failures = (await collect(store.read(streamFor('instance', givenUp)))).filter(
      (event) => event.type === 'DomainStartFailed',
    );
    expect(failures.map((event) => (event.data as { retryable: boolean }).retryable)).toEqual([false]);

    reachable = true;
    await expect(patient.drive(waiting)).resolves.toBe('done');
    expect(serverStatus(await instance(waiting))).toBe('ACTIVE');
  });

  it('destroys a domain booted for a server deleted meanwhile', async () => {
    const id = await placed();
    const booting = agent.drive(id);
    await store.execute(streamFor('instance', id), instanceReducer, (state) => decideDelete(state, id), user);
    await booting;
    await agent.drive(id);
    const state = await instance(id);
    expect(serverStatus(state)).toBe('DELETED');
    for (const host of HOSTS) expect(await driver.powerState(host, domainNameOf(id))).toBe('absent');
  });

  it('syncs power: a domain that stopped behind our back, one that vanished, and an orphan', async () => {
    const sync = new PowerSync(store, driver, agent);
    const stopped = await bootActive();
    const vanished = await bootActive();
    const stoppedHost = (await instance(stopped)).host!;
    const vanishedHost = (await instance(vanished)).host!;
    await driver.powerOff(stoppedHost, domainNameOf(stopped), { timeoutMs: 0 });
    await driver.destroy(vanishedHost, domainNameOf(vanished));
    const orphan = randomUUID();
    await driver.ensureImage('sim-a', { id: imageId, sourcePath: path.join(imagesDir, `${imageId}.qcow2`) });
    const { domainSpec } = await import('../../apps/compute/src/hypervisor/index.js');
    await driver.spawn('sim-a', domainSpec({ instanceId: orphan, vcpus: 1, memoryMib: 64, imageId }));

    for (const host of HOSTS) {
      const known = [...view.allInstances()]
        .filter(({ state }) => state.host === host)
        .map(({ state }) => state.id);
      await sync.syncHost(host, known, `req-${randomUUID()}`);
    }

    expect(serverStatus(await instance(stopped))).toBe('SHUTOFF');
    expect(serverStatus(await instance(vanished))).toBe('ERROR');
    expect(await driver.powerState('sim-a', domainNameOf(orphan))).toBe('absent');
  });

  it('does not take a build that ended during the sweep for a vanished domain', async () => {
    const id = await placed();
    const host = (await instance(id)).host!;
    // The host is listed before the build, which then ends before the sweep folds the stream.
    const listedEarly: FakeHypervisorDriver = Object.create(driver) as FakeHypervisorDriver;
    listedEarly.listDomains = async (listed) => {
      const domains = await driver.listDomains(listed);
      if (listed === host) await agent.drive(id);
      return domains;
    };
    const report = await new PowerSync(store, listedEarly, agent).syncHost(host, [id], `req-${randomUUID()}`);
    expect(report.changed).toEqual([]);
    expect(serverStatus(await instance(id))).toBe('ACTIVE');
  });

  describe('consoles', () => {
    const consoles = (): ConsoleService =>
      new ConsoleService(store, driver, { proxyBaseUrl: 'http://127.0.0.1:6080', tokenTtlMs: 600_000 });

    /** Authorises a console and returns the hash of the token in its URL. */
    async function consoleOf(id: string): Promise<string> {
      const { url } = await consoles().authorize(id, (await instance(id)).host!, user);
      const token = decodeURIComponent(new URL(url).searchParams.get('path')!).replace('?token=', '');
      return createHash('sha256').update(token).digest('hex');
    }

    /** Why the token was revoked; null while it is live. */
    const revocation = async (tokenHash: string) =>
      (await store.fold(streamFor('console', tokenHash), consoleReducer)).state.revokedReason;

    it('revokes the consoles of a server when it reboots, soft or hard: its VNC port may change', async () => {
      const id = await bootActive();
      const beforeSoft = await consoleOf(id);
      await request(id, (state) => decideReboot(state, id, 'SOFT'));
      const beforeHard = await consoleOf(id);
      await request(id, (state) => decideReboot(state, id, 'HARD'));

      expect(serverStatus(await instance(id))).toBe('ACTIVE');
      expect(await revocation(beforeSoft)).toBe('instance-rebooted');
      expect(await revocation(beforeHard)).toBe('instance-rebooted');
      expect(await revocation(await consoleOf(id))).toBeNull();
    });

    it('revokes the consoles of a server whose domain stopped or vanished behind our back', async () => {
      const sync = new PowerSync(store, driver, agent);
      const stopped = await bootActive();
      const vanished = await bootActive();
      const stoppedConsole = await consoleOf(stopped);
      const vanishedConsole = await consoleOf(vanished);
      const stoppedHost = (await instance(stopped)).host!;
      const vanishedHost = (await instance(vanished)).host!;
      await driver.powerOff(stoppedHost, domainNameOf(stopped), { timeoutMs: 0 });
      await driver.destroy(vanishedHost, domainNameOf(vanished));

      await sync.syncHost(stoppedHost, [stopped], `req-${randomUUID()}`);
      await sync.syncHost(vanishedHost, [vanished], `req-${randomUUID()}`);

      expect(await revocation(stoppedConsole)).toBe('power-state-changed');
      expect(await revocation(vanishedConsole)).toBe('power-state-changed');
    });

    it('opens no console while the server is being rebooted', async () => {
      const id = await bootActive();
      await store.execute(
        streamFor('instance', id),
        instanceReducer,
        (state) => decideReboot(state, id, 'HARD'),
        user,
      );

      await expect(consoleOf(id)).rejects.toBeInstanceOf(ConflictingState);
    });
  });
});
