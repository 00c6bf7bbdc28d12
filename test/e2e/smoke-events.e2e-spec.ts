/**
 * The smallest whole-system check: servers posted to the REST API on a rig of 2 real libvirt hosts
 * go through the scheduler and the compute agent to ACTIVE, and each instance stream tells exactly
 * that story (BootRequested, HostSelected, DomainStarted, all naming the host the API shows), with
 * one claim per server on that host.
 */
import { streamFor } from '#libs/contracts';

import { eventually } from '../support/eventually.js';
import { OpenStackHttp } from '../support/openstack-http.js';
import { collect } from '../support/streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 2, api: true });
  os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
}, 120_000);

afterAll(async () => {
  await system.stop();
}, 60_000);

type Shown = { id: string; status: string; 'OS-EXT-SRV-ATTR:host'?: string; fault?: { message: string } };

const SERVERS = 3;

it('boots servers posted to the REST API to ACTIVE through the scheduler and the compute agent', async () => {
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  const imageRef = images.body.images[0]!.id;
  const replies = await Promise.all(
    Array.from({ length: SERVERS }, (_, index) =>
      os.compute<{ server: { id: string } }>('POST', '/servers', {
        server: { name: `smoke-${index}`, imageRef, flavorRef: '0', networks: 'none' },
      }),
    ),
  );
  expect(replies.map((reply) => reply.status)).toEqual(Array(SERVERS).fill(202));
  const ids = replies.map((reply) => reply.body.server.id);

  const servers = await eventually(
    `all ${SERVERS} servers ACTIVE or ERROR`,
    async () => {
      const shown = await Promise.all(
        ids.map(async (id) => (await os.compute<{ server: Shown }>('GET', `/servers/${id}`)).body.server),
      );
      return shown.every((server) => ['ACTIVE', 'ERROR'].includes(server.status)) ? shown : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  const failed = servers.filter((server) => server.status === 'ERROR');
  if (failed.length > 0) console.log(system.compute.output(), system.scheduler.output());
  expect(failed.map((server) => server.fault?.message)).toEqual([]);
  expect(servers.filter((server) => server.status === 'ACTIVE')).toHaveLength(SERVERS);

  const hostNames = system.rig!.hosts.map((host) => host.name);
  for (const server of servers) {
    const host = server['OS-EXT-SRV-ATTR:host']!;
    expect(hostNames).toContain(host);
    const events = await collect(system.store.read(streamFor('instance', server.id)));
    expect(events.map((event) => [event.type, (event.data as { host?: string }).host])).toEqual([
      ['BootRequested', undefined],
      ['HostSelected', host],
      ['DomainStarted', host],
    ]);
  }
  const claims = await Promise.all(
    hostNames.map(async (host) =>
      (await collect(system.store.read(streamFor('host', host))))
        .filter((event) => event.type === 'ResourcesClaimed')
        .map((event) => `${(event.data as { instanceId: string }).instanceId}@${host}`),
    ),
  );
  expect(claims.flat().sort()).toEqual(
    servers.map((server) => `${server.id}@${server['OS-EXT-SRV-ATTR:host']}`).sort(),
  );
}, 150_000);
