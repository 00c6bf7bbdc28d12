/**
 * Resizing a server through the REST API on a real libvirt host over SSH: the domain really takes
 * the new flavor's vCPUs and memory (read back with virsh), a revert gives the old ones back, a
 * confirm keeps the new ones, and the host's claim follows (the larger flavor while the user
 * decides, the kept one after). A resize the host has no room for, or to the same flavor, changes
 * nothing.
 */
import { streamFor } from '#libs/contracts';
import { hostReducer } from '#libs/domain';

import {
  VirshDriver,
  domainNameOf,
  hostConfigsFromInventory,
} from '../../apps/compute/src/hypervisor/index.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import { serverWithStatus } from '../support/servers.js';
import { collect } from '../support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

type Server = {
  id: string;
  status: string;
  'OS-EXT-SRV-ATTR:host': string;
  flavor: { original_name: string; vcpus: number; ram: number };
  fault?: { message: string };
};

let system: NimbusSystem;
let os: OpenStackHttp;
let virsh: VirshDriver;
let serverId: string;
let host: string;

async function serverOf(id: string): Promise<Server> {
  return (await os.compute<{ server: Server }>('GET', `/servers/${id}`)).body.server;
}

function waitFor(id: string, status: string): Promise<Server> {
  return serverWithStatus<Server>(os, id, status, 120_000);
}

async function claimOf(id: string): Promise<unknown> {
  const { state } = await system.store.fold(streamFor('host', host), hostReducer);
  const held = state.allocations[id];
  return held && { vcpus: held.vcpus, ramMb: held.ramMb, diskGb: held.diskGb };
}

/** Waits until the host's claim for the server is `expected` (the scheduler sizes it after the fact). */
function claimBecomes(id: string, expected: unknown): Promise<true> {
  return eventually(`the claim of ${id} at ${JSON.stringify(expected)}`, async () =>
    JSON.stringify(await claimOf(id)) === JSON.stringify(expected) ? true : undefined,
  );
}

function action(id: string, body: Record<string, unknown>) {
  return os.compute<{ badRequest?: { message: string }; conflictingRequest?: { message: string } }>(
    'POST',
    `/servers/${id}/action`,
    body,
  );
}

beforeAll(async () => {
  system = await startSystem({ rigHosts: 1, api: true });
  os = await OpenStackHttp.login(
    system.apiUrl!,
    { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' },
    '2.47',
  );
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
  for (const [id, name, vcpus, ram] of [
    ['nano2', 'm1.nano2', 2, 128],
    ['huge', 'm1.huge', 1000, 64],
  ] as const) {
    const made = await os.compute('POST', '/flavors', { flavor: { id, name, vcpus, ram, disk: 0 } });
    if (made.status !== 200) throw new Error(`flavor ${name}: ${made.status}`);
  }
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  const created = await os.compute<{ server: { id: string } }>('POST', '/servers', {
    server: { name: 'resize-me', imageRef: images.body.images[0]!.id, flavorRef: '0', networks: 'none' },
  });
  serverId = created.body.server.id;
  host = (await waitFor(serverId, 'ACTIVE'))['OS-EXT-SRV-ATTR:host'];
}, 240_000);

afterAll(async () => {
  await virsh.close();
  await system.stop();
}, 120_000);

describe('resizing a server on a real libvirt host', () => {
  it('gives the domain the new flavor and waits for the user; the host holds the larger flavor', async () => {
    expect((await action(serverId, { resize: { flavorRef: 'nano2' } })).status).toBe(202);
    const resized = await waitFor(serverId, 'VERIFY_RESIZE');
    expect(resized.flavor).toMatchObject({ original_name: 'm1.nano2', vcpus: 2, ram: 128 });
    expect(await virsh.domainResources(host, domainNameOf(serverId))).toEqual({ vcpus: 2, memoryMib: 128 });
    expect(await virsh.powerState(host, domainNameOf(serverId))).toBe('running');
    expect(await claimOf(serverId)).toEqual({ vcpus: 2, ramMb: 128, diskGb: 0 });
  }, 180_000);

  it('reverts: the domain has its old size again, and the host holds the old flavor only', async () => {
    expect((await action(serverId, { revertResize: null })).status).toBe(202);
    const reverted = await waitFor(serverId, 'ACTIVE');
    expect(reverted.flavor).toMatchObject({ original_name: 'm1.nano', vcpus: 1, ram: 64 });
    expect(await virsh.domainResources(host, domainNameOf(serverId))).toEqual({ vcpus: 1, memoryMib: 64 });
    expect(await virsh.powerState(host, domainNameOf(serverId))).toBe('running');
    await claimBecomes(serverId, { vcpus: 1, ramMb: 64, diskGb: 0 });
  }, 180_000);

  it('confirms: the domain keeps the new size, and the host holds the new flavor only', async () => {
    expect((await action(serverId, { resize: { flavorRef: 'nano2' } })).status).toBe(202);
    await waitFor(serverId, 'VERIFY_RESIZE');
    const confirmed = await action(serverId, { confirmResize: null });
    expect(confirmed.status).toBe(204);
    const server = await waitFor(serverId, 'ACTIVE');
    expect(server.flavor).toMatchObject({ original_name: 'm1.nano2', vcpus: 2, ram: 128 });
    expect(await virsh.domainResources(host, domainNameOf(serverId))).toEqual({ vcpus: 2, memoryMib: 128 });
    await claimBecomes(serverId, { vcpus: 2, ramMb: 128, diskGb: 0 });
  }, 180_000);

  it('refuses a resize to the same flavor, and a confirm with nothing to confirm, changing nothing', async () => {
    const before = (await collect(system.store.read(streamFor('instance', serverId)))).length;
    const same = await action(serverId, { resize: { flavorRef: 'nano2' } });
    expect(same.status).toBe(400);
    expect(same.body.badRequest?.message).toBe('When resizing, instances must change flavor!');
    const nothing = await action(serverId, { confirmResize: null });
    expect(nothing.status).toBe(409);
    expect((await collect(system.store.read(streamFor('instance', serverId)))).length).toBe(before);
  }, 60_000);

  it("refuses a resize past the project's quota; one the host has no room for fails, leaving the server as it was", async () => {
    const overQuota = await os.compute<{ forbidden: { message: string } }>(
      'POST',
      `/servers/${serverId}/action`,
      {
        resize: { flavorRef: 'huge' },
      },
    );
    expect(overQuota.status).toBe(403);
    expect(overQuota.body.forbidden.message).toMatch(
      /^Quota exceeded for cores: Requested 998, but already used 2 of \d+ cores$/,
    );
    const unlimited = await os.compute('PUT', `/os-quota-sets/${os.projectId}`, { quota_set: { cores: -1 } });
    expect(unlimited.status).toBe(200);
    expect((await action(serverId, { resize: { flavorRef: 'huge' } })).status).toBe(202);
    const events = await eventually('the resize to fail', async () => {
      const types = (await collect(system.store.read(streamFor('instance', serverId)))).map(
        (event) => event.type,
      );
      return types.at(-1) === 'ResizeFailed' ? types : undefined;
    });
    expect(events.slice(-2)).toEqual(['ResizeRequested', 'ResizeFailed']);
    const server = await serverOf(serverId);
    expect(server).toMatchObject({ status: 'ACTIVE', flavor: { original_name: 'm1.nano2' } });
    expect(await virsh.domainResources(host, domainNameOf(serverId))).toEqual({ vcpus: 2, memoryMib: 128 });
    expect(await claimOf(serverId)).toEqual({ vcpus: 2, ramMb: 128, diskGb: 0 });
    const actions = await os.compute<{ instanceActions: { action: string }[] }>(
      'GET',
      `/servers/${serverId}/os-instance-actions`,
    );
    expect(actions.body.instanceActions.map((entry) => entry.action).sort()).toEqual([
      'confirmResize',
      'create',
      'resize',
      'resize',
      'resize',
      'revertResize',
    ]);
  }, 120_000);

  it('deletes the resized server: no domain and no claim is left', async () => {
    expect((await os.compute('DELETE', `/servers/${serverId}`)).status).toBe(204);
    await eventually('the server gone', async () =>
      (await os.compute('GET', `/servers/${serverId}`)).status === 404 ? true : undefined,
    );
    expect(await virsh.powerState(host, domainNameOf(serverId))).toBe('absent');
    await eventually('the claim released', async () =>
      (await claimOf(serverId)) === undefined ? true : undefined,
    );
  }, 120_000);
});
