/**
 * The boot flow end to end through the REST API, with real NATS, the embedded event store, real
 * sshd and real libvirt on a rig of 3 hosts: servers are created, become ACTIVE with their domains
 * running on the hosts the scheduler chose, are stopped, started, rebooted, rebuilt from another
 * image and imaged (createImage), and deleted, after
 * which no domain, no overlay and no claim is left. Each stream, read raw and replayed through the
 * domain's fold, and each server as the API shows it, are compared with what the test itself did
 * (names, flavor, image, the host virsh found the domain on, the actions taken), never with the
 * API's own views, so a bug in a view fails the test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

import { streamFor } from '#libs/contracts';
import { hostReducer, instanceReducer } from '#libs/domain';

import {
  VirshDriver,
  domainNameOf,
  hostConfigsFromInventory,
} from '../../apps/compute/src/hypervisor/index.js';
import { eventually } from '../support/eventually.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { serverWithStatus } from '../support/servers.js';
import { collect } from '../support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;
let virsh: VirshDriver;
let imageId: string;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 3, api: true });
  os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
  virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
  const images = await os.image<{ images: { id: string; name: string }[] }>(
    'GET',
    '/v2/images?name=nimbus-boot',
  );
  imageId = images.body.images[0]!.id;
}, 180_000);

afterAll(async () => {
  await virsh.close();
  await system.stop();
}, 120_000);

type Server = { id: string; status: string; 'OS-EXT-SRV-ATTR:host'?: string; fault?: { message: string } };

async function serverOf(id: string): Promise<Server> {
  return (await os.compute<{ server: Server }>('GET', `/servers/${id}`)).body.server;
}

function waitFor(id: string, status: string): Promise<Server> {
  return serverWithStatus<Server>(os, id, status, 90_000);
}

const servers: string[] = [];

/** What the test did to each server, written down as it does it: the expectation replay is held to. */
interface Expected {
  name: string;
  /** The image the server's disk was last made from. */
  image: string;
  metadata: Record<string, string>;
  /** The host virsh found the server's running domain on, not the host the API names. */
  host: string;
  /** The instance stream's events, in order, as the actions taken must have written them. */
  readonly events: string[];
}
const expected = new Map<string, Expected>();

describe('servers on a rig of 3 hosts, through the REST API', () => {
  it('boots three servers to ACTIVE, each with its domain running on its host', async () => {
    for (let index = 0; index < 3; index += 1) {
      const created = await os.compute<{ server: { id: string } }>('POST', '/servers', {
        server: { name: `e2e-${index}`, imageRef: imageId, flavorRef: '0', networks: 'none' },
      });
      expect(created.status).toBe(202);
      servers.push(created.body.server.id);
      expected.set(created.body.server.id, {
        name: `e2e-${index}`,
        image: imageId,
        metadata: {},
        host: '',
        events: ['BootRequested', 'HostSelected', 'DomainStarted'],
      });
    }
    for (const id of servers) {
      const server = await waitFor(id, 'ACTIVE');
      const runningOn: string[] = [];
      for (const host of system.rig!.hosts) {
        const domains = await virsh.listDomains(host.name);
        if (domains.some((domain) => domain.name === domainNameOf(id) && domain.powerState === 'running'))
          runningOn.push(host.name);
      }
      expect(runningOn).toHaveLength(1);
      expected.get(id)!.host = runningOn[0]!;
      expect(server['OS-EXT-SRV-ATTR:host']).toBe(runningOn[0]);
    }
    const hosts = new Set(
      await Promise.all(servers.map(async (id) => (await serverOf(id))['OS-EXT-SRV-ATTR:host'])),
    );
    expect(hosts.size).toBe(3);
  }, 180_000);

  it('stops, starts and reboots a server, and the domain follows', async () => {
    const [id] = servers;
    const host = (await serverOf(id!))['OS-EXT-SRV-ATTR:host']!;

    expected
      .get(id!)!
      .events.push(
        'StopRequested',
        'DomainStopped',
        'StartRequested',
        'DomainStarted',
        'RebootRequested',
        'DomainRebooted',
      );
    expect((await os.compute('POST', `/servers/${id}/action`, { 'os-stop': null })).status).toBe(202);
    await waitFor(id!, 'SHUTOFF');
    expect(await virsh.powerState(host, domainNameOf(id!))).toBe('shutoff');

    expect((await os.compute('POST', `/servers/${id}/action`, { 'os-start': null })).status).toBe(202);
    await waitFor(id!, 'ACTIVE');
    expect(await virsh.powerState(host, domainNameOf(id!))).toBe('running');

    expect((await os.compute('POST', `/servers/${id}/action`, { reboot: { type: 'HARD' } })).status).toBe(
      202,
    );
    await waitFor(id!, 'ACTIVE');
    const actions = await os.compute<{ instanceActions: { action: string }[] }>(
      'GET',
      `/servers/${id}/os-instance-actions`,
    );
    expect(actions.body.instanceActions.map((entry) => entry.action).sort()).toEqual([
      'create',
      'reboot',
      'start',
      'stop',
    ]);
  }, 180_000);

  it('rebuilds a server from another image: the domain is made anew on its host, on the new image', async () => {
    const id = servers[1]!;
    const host = expected.get(id)!.host;
    // A second image with the same bytes under another id: the host caches it apart from the first.
    const files = `${system.apiUrl}/image/v2/images`;
    const auth = { 'X-Auth-Token': os.token };
    const data = Buffer.from(
      await (await fetch(`${files}/${imageId}/file`, { headers: auth })).arrayBuffer(),
    );
    const copy = await os.image<{ id: string }>('POST', '/v2/images', {
      name: 'nimbus-boot-copy',
      disk_format: 'qcow2',
      container_format: 'bare',
    });
    const uploaded = await fetch(`${files}/${copy.body.id}/file`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expect(uploaded.status).toBe(204);

    const rebuilt = await os.compute<{ server: { image: { id: string }; status: string; name: string } }>(
      'POST',
      `/servers/${id}/action`,
      { rebuild: { imageRef: copy.body.id, name: 'e2e-1-rebuilt', metadata: { rebuilt: 'yes' } } },
    );
    expect(rebuilt.status).toBe(202);
    expect(rebuilt.body.server).toMatchObject({ image: { id: copy.body.id }, name: 'e2e-1-rebuilt' });
    const after = await waitFor(id, 'ACTIVE');
    expect(after['OS-EXT-SRV-ATTR:host']).toBe(host);
    expect(await virsh.powerState(host, domainNameOf(id))).toBe('running');
    const rigHost = system.rig!.hosts.find((candidate) => candidate.name === host)!;
    const disk = JSON.parse(
      execFileSync(
        'qemu-img',
        ['info', '--force-share', '--output=json', `${rigHost.instancesDir}/${id}/disk.qcow2`],
        {
          encoding: 'utf8',
        },
      ),
    ) as { 'backing-filename'?: string };
    expect(disk['backing-filename']).toMatch(new RegExp(`/${copy.body.id}\\.qcow2$`));

    const entry = expected.get(id)!;
    Object.assign(entry, { name: 'e2e-1-rebuilt', image: copy.body.id, metadata: { rebuilt: 'yes' } });
    entry.events.push('RebuildRequested', 'ServerUpdated', 'ServerMetadataChanged', 'DomainRebuilt');
  }, 180_000);

  it("makes an image of a running server's disk: a standalone qcow2 in the image service", async () => {
    const id = servers[2]!;
    const made = await os.compute('POST', `/servers/${id}/action`, {
      createImage: { name: 'e2e-2-image', metadata: { purpose: 'e2e' } },
    });
    expect(made.status).toBe(202);
    const location = made.headers.get('location') ?? '';
    const snapshotId = location.split('/').at(-1) ?? '';
    expect(location).toBe(`${system.apiUrl}/image/v2/images/${snapshotId}`);
    const image = await eventually(
      `image ${snapshotId} active`,
      async () => {
        const shown = await os.image<{ status: string; size: number }>('GET', `/v2/images/${snapshotId}`);
        if (shown.body.status === 'deleted') throw new Error('the snapshot failed');
        return shown.body.status === 'active' ? shown.body : undefined;
      },
      120_000,
    );
    expect(image).toMatchObject({
      image_type: 'snapshot',
      instance_uuid: id,
      purpose: 'e2e',
      owner: os.projectId,
    });
    const bytes = Buffer.from(
      await (
        await fetch(`${system.apiUrl}/image/v2/images/${snapshotId}/file`, {
          headers: { 'X-Auth-Token': os.token },
        })
      ).arrayBuffer(),
    );
    expect(bytes.length).toBe(image.size);
    expect(bytes.readUInt32BE(0)).toBe(0x514649fb); // qcow2
    expect(bytes.readBigUInt64BE(8)).toBe(0n); // standalone: no backing file
    expect((await serverOf(id)).status).toBe('ACTIVE');
    expected.get(id)!.events.push('SnapshotRequested', 'SnapshotTaken');
    expect((await os.image('DELETE', `/v2/images/${snapshotId}`)).status).toBe(204);
  }, 180_000);

  it('replays each stream to what was done to its server, and the API shows the same', async () => {
    const plain = await OpenStackHttp.login(
      system.apiUrl!,
      { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' },
      '2.1',
    );
    for (const id of servers) {
      const { name, host, events, image, metadata } = expected.get(id)!;
      const stream = streamFor('instance', id);

      const raw = await collect(system.store.read(stream));
      expect(raw.map((event) => event.type)).toEqual(events);

      const { state } = await system.store.fold(stream, instanceReducer);
      expect(state).toMatchObject({
        id,
        name,
        host,
        vmState: 'active',
        taskState: null,
        powerState: 'running',
        fault: null,
        image: { id: image },
        metadata,
        boot: {
          flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
          image: { id: imageId, name: 'nimbus-boot' },
          metadata: {},
          requestedNetworks: 'none',
        },
      });

      const shown = (await plain.compute<{ server: Record<string, unknown> }>('GET', `/servers/${id}`)).body
        .server;
      expect(shown).toMatchObject({
        id,
        name,
        status: 'ACTIVE',
        'OS-EXT-STS:vm_state': 'active',
        'OS-EXT-STS:task_state': null,
        'OS-EXT-STS:power_state': 1,
        'OS-EXT-SRV-ATTR:host': host,
        flavor: { id: '0' },
        image: { id: image },
        addresses: {},
        metadata,
      });
      expect(shown).not.toHaveProperty('fault');
    }
  }, 60_000);

  it('deletes every server: no domain, no overlay and no claim is left', async () => {
    for (const id of servers) expect((await os.compute('DELETE', `/servers/${id}`)).status).toBe(204);
    for (const id of servers) {
      await eventually(
        `server ${id} gone`,
        async () => ((await os.compute('GET', `/servers/${id}`)).status === 404 ? true : undefined),
        90_000,
      );
    }
    for (const host of system.rig!.hosts) {
      expect((await virsh.listDomains(host.name)).filter((domain) => domain.instanceId !== null)).toEqual([]);
      const leftovers = existsSync(host.instancesDir) ? readdirSync(host.instancesDir) : [];
      expect(leftovers).toEqual([]);
      await eventually(
        `no claim left on ${host.name}`,
        async () => {
          const { state } = await system.store.fold(streamFor('host', host.name), hostReducer);
          return Object.keys(state.allocations).length === 0 ? true : undefined;
        },
        30_000,
      );
    }
  }, 180_000);
});
