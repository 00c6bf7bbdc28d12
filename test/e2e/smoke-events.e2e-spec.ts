/**
 * The smallest whole-system check: servers posted to the REST API on a rig of 2 real libvirt hosts
 * go through the scheduler and the compute agent to ACTIVE, and each instance stream tells exactly
 * that story (BootRequested, HostSelected, DomainStarted, all naming the host the API shows), with
 * one claim per server on that host.
 */
import { streamFor } from '#libs/contracts';

import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { bootServers, settledServers } from '../support/servers.js';
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

const SERVERS = 3;

it('boots servers posted to the REST API to ACTIVE through the scheduler and the compute agent', async () => {
  const replies = await bootServers(os, 'smoke', SERVERS);
  expect(replies.map((reply) => reply.status)).toEqual(Array(SERVERS).fill(202));
  const ids = replies.map((reply) => reply.body.server.id);

  const servers = await settledServers(os, ids, 90_000);
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
