/**
 * The scheduler against a real event store: placement with the trace recorded in the store, claims
 * released on failure and delete, and two schedulers racing 20 boots for room for exactly 10 —
 * exactly 10 placed, 10 in ERROR with NoValidHost, no host over its capacity.
 */
import { randomUUID } from 'node:crypto';

import { EventStoreDBClient } from '@eventstore/db-client';

import { DomainStartFailed, HostRegistered, InventoryReported, build, streamFor } from '#libs/contracts';
import { ClusterView } from '#libs/cluster-view';
import {
  capacity,
  decideBoot,
  decideDelete,
  hostReducer,
  instanceReducer,
  serverStatus,
  usedResources,
} from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { FILTERS } from '../src/filters/index.js';
import { HostLiveness } from '#libs/bus';
import { SchedulerService } from '../src/placement/scheduler.service.js';
import { WEIGHERS } from '../src/weighers/index.js';
import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { bootCommand, userContext } from '../../../test/support/instances.js';
import { eventually } from '../../../test/support/eventually.js';

let server: EventStoreProcess;
let client: EventStoreDBClient;
let store: EventStore;

beforeAll(async () => {
  server = await startEventStoreProcess();
  client = EventStoreDBClient.connectionString(server.connectionString);
  store = new EventStore(client);
});

/** Every view a test started: stopped here even when the test failed before its own end. */
const views: ClusterView[] = [];

afterAll(async () => {
  await Promise.all(views.map((view) => view.stop()));
  await client.dispose();
  await server.stop();
});

const service = {
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'compute', projectId: null, kind: 'service' as const },
};

/** Registers hosts that each hold `slots` instances of 64 MiB. */
async function hosts(prefix: string, count: number, slots: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `${prefix}-${index + 1}`);
  for (const host of names) {
    await store.append(
      streamFor('host', host),
      [
        build(HostRegistered, { host, availabilityZone: 'nova', hypervisorType: 'qemu', cpuArch: 'x86_64' }),
        build(InventoryReported, {
          host,
          vcpus: 64,
          ramMb: slots * 64,
          diskGb: 100,
          vcpuAllocationRatio: 1,
          ramAllocationRatio: 1,
          diskAllocationRatio: 1,
          reservedVcpus: 0,
          reservedRamMb: 0,
          reservedDiskGb: 0,
        }),
      ],
      'no_stream',
      service,
    );
  }
  return names;
}

async function startScheduler(
  alive: readonly string[],
): Promise<{ scheduler: SchedulerService; view: ClusterView }> {
  const view = new ClusterView(client, `test-${randomUUID()}`);
  views.push(view);
  await view.start();
  const liveness = new HostLiveness(60_000);
  for (const host of alive) liveness.heard(host);
  const policy = {
    filters: FILTERS,
    weighers: WEIGHERS.map((weigher) => ({ weigher, multiplier: 1 })),
    alternates: 2,
  };
  return { scheduler: new SchedulerService(store, view, liveness, { policy, maxAttempts: 3 }), view };
}

async function boot(overrides: Parameters<typeof bootCommand>[0] = {}): Promise<string> {
  const command = bootCommand({
    flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
    ...overrides,
  });
  await store.execute(
    streamFor('instance', command.instanceId),
    instanceReducer,
    (state) => decideBoot(state, command),
    userContext(),
  );
  return command.instanceId;
}

const instance = (id: string) => store.fold(streamFor('instance', id), instanceReducer);
const host = (name: string) => store.fold(streamFor('host', name), hostReducer);

describe('SchedulerService', () => {
  it('places a boot on the host with the most free RAM and records why', async () => {
    const names = await hosts(`place-${randomUUID().slice(0, 6)}`, 3, 4);
    const { scheduler } = await startScheduler(names);
    const id = await boot();

    await expect(scheduler.drive(id)).resolves.toBe('selected');

    const { state } = await instance(id);
    expect(names).toContain(state.host);
    expect(state.taskState).toBe('spawning');
    expect((await host(state.host!)).state.allocations[id]).toMatchObject({ attempt: 1, ramMb: 64 });
  });

  it('fails a boot no host can take with NoValidHost naming the filter, and holds no claim', async () => {
    const names = await hosts(`full-${randomUUID().slice(0, 6)}`, 2, 1);
    const { scheduler } = await startScheduler(names);
    const id = await boot({ flavor: { id: '9', name: 'big', vcpus: 1, ramMb: 4096, diskGb: 0 } });

    await expect(scheduler.drive(id)).resolves.toBe('failed');

    const { state } = await instance(id);
    expect(serverStatus(state)).toBe('ERROR');
    expect(state.fault?.message).toMatch(/^No valid host was found\. Filter RamFilter returned 0 hosts/);
  });

  it('reschedules a failed build elsewhere and releases the failed host', async () => {
    const names = await hosts(`retry-${randomUUID().slice(0, 6)}`, 2, 4);
    const { scheduler, view } = await startScheduler(names);
    const id = await boot();
    await scheduler.drive(id);
    const first = (await instance(id)).state;

    await store.append(
      streamFor('instance', id),
      [
        build(DomainStartFailed, {
          instanceId: id,
          host: first.host!,
          attempt: 1,
          reason: 'qemu exploded',
          retryable: true,
        }),
      ],
      (await instance(id)).revision!,
      service,
    );
    await eventually('the view to record the failed host', () =>
      view.instance(id)?.state.failedHosts.length === 1 ? true : undefined,
    );
    await scheduler.drive(id);

    const second = (await instance(id)).state;
    expect(second.attempt).toBe(2);
    expect(second.host).not.toBe(first.host);
    await eventually('the claim on the failed host to be released', async () =>
      (await host(first.host!)).state.allocations[id] === undefined ? true : undefined,
    );
  });

  it('finishes the delete of a server that never got a host', async () => {
    const { scheduler } = await startScheduler([]);
    const id = await boot();
    await store.execute(
      streamFor('instance', id),
      instanceReducer,
      (state) => decideDelete(state, id),
      userContext(),
    );

    await expect(scheduler.drive(id)).resolves.toBe('deleted');
    expect(serverStatus((await instance(id)).state)).toBe('DELETED');
  });

  it('spreads concurrent boots over equal hosts: each decision weighs the claims still on their way', async () => {
    const names = await hosts(`spread-${randomUUID().slice(0, 6)}`, 3, 4);
    const { scheduler } = await startScheduler(names);
    const ids = await Promise.all(Array.from({ length: 6 }, () => boot()));

    await expect(Promise.all(ids.map((id) => scheduler.drive(id)))).resolves.toEqual(
      ids.map(() => 'selected'),
    );

    for (const name of names) {
      expect(Object.keys((await host(name)).state.allocations)).toHaveLength(2);
    }
  });

  it('rechecks quota in request order: of 8 boots racing for 3 free slots, exactly the first 3 get hosts', async () => {
    const names = await hosts(`quota-${randomUUID().slice(0, 6)}`, 2, 10);
    const one = await startScheduler(names);
    const two = await startScheduler(names);
    const projectId = randomUUID().replaceAll('-', '');
    const quota = { instances: 4, cores: -1, ramMb: -1 };
    // One server the project already has; all eight boots passed the API's check against it alone.
    const existing = await boot({ projectId, quota });
    await expect(one.scheduler.drive(existing)).resolves.toBe('selected');
    const ids: string[] = [];
    for (let index = 0; index < 8; index += 1) ids.push(await boot({ projectId, quota }));

    await Promise.all(
      [...ids].reverse().map((id, index) => (index % 2 === 0 ? one : two).scheduler.drive(id)),
    );

    const states = await Promise.all(ids.map(async (id) => (await instance(id)).state));
    expect(states.map((state) => serverStatus(state))).toEqual([
      ...Array<string>(3).fill('BUILD'),
      ...Array<string>(5).fill('ERROR'),
    ]);
    // Refused servers count until deleted, as in Nova: each refusal sees the ones before it.
    for (const [index, state] of states.slice(3).entries()) {
      expect(state.fault).toMatchObject({
        code: 403,
        message: `Quota exceeded for instances: Requested 1, but already used ${4 + index} of 4 instances`,
      });
      for (const name of names) expect((await host(name)).state.allocations[state.id]).toBeUndefined();
    }
  }, 60_000);

  it('does not recheck a boot the API admitted without limits', async () => {
    const names = await hosts(`noquota-${randomUUID().slice(0, 6)}`, 1, 4);
    const { scheduler } = await startScheduler(names);
    const projectId = randomUUID().replaceAll('-', '');
    await boot({ projectId, quota: { instances: 1, cores: -1, ramMb: -1 } });
    const id = await boot({ projectId });

    await expect(scheduler.drive(id)).resolves.toBe('selected');
  });

  it('never overcommits: two schedulers, 20 concurrent boots, room for exactly 10', async () => {
    const names = await hosts(`race-${randomUUID().slice(0, 6)}`, 2, 5);
    const one = await startScheduler(names);
    const two = await startScheduler(names);
    const ids = await Promise.all(Array.from({ length: 20 }, () => boot()));

    await Promise.all(ids.map((id, index) => (index % 2 === 0 ? one : two).scheduler.drive(id)));

    const states = await Promise.all(ids.map(async (id) => (await instance(id)).state));
    expect(states.filter((state) => state.taskState === 'spawning')).toHaveLength(10);
    const failed = states.filter((state) => serverStatus(state) === 'ERROR');
    expect(failed).toHaveLength(10);
    for (const state of failed) expect(state.fault?.message).toContain('No valid host was found');
    for (const name of names) {
      const { state } = await host(name);
      expect(usedResources(state).ramMb).toBeLessThanOrEqual(capacity(state.inventory!).ramMb);
      expect(Object.keys(state.allocations)).toHaveLength(5);
    }
  }, 60_000);
});
