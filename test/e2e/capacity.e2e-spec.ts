/**
 * Capacity under concurrency, end to end: 20 boots at once, through the REST API, against two real
 * hosts whose inventory holds exactly 10 of the flavor. Exactly 10 become ACTIVE, 10 end in ERROR
 * with NoValidHost naming the filter that emptied the list, and no host is claimed beyond its
 * capacity. Then quota under concurrency: boots racing for a project's last slots may all pass the
 * API's check, and the scheduler's recheck lets exactly as many run as the quota allows.
 */
import { streamFor } from '#libs/contracts';
import { capacity, hostReducer, usedResources } from '#libs/domain';

import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { bootServers, settledServers } from '../support/servers.js';
import { eventually } from '../support/eventually.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let os: OpenStackHttp;

beforeAll(async () => {
  // 2 hosts x 320 MiB at ratio 1: five 64 MiB servers each.
  system = await startSystem({
    rigHosts: 2,
    api: true,
    computeEnv: { NIMBUS_COMPUTE_MAX_RAM_MB: '320', NIMBUS_COMPUTE_RAM_ALLOCATION_RATIO: '1' },
    // The default quota (10 instances) would stop the burst before the hosts do.
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
}, 180_000);

afterAll(async () => {
  await system.stop();
}, 120_000);

it('places exactly 10 of 20 concurrent boots and fails the rest with NoValidHost', async () => {
  const created = await bootServers(os, 'cap', 20);
  expect(created.map((reply) => reply.status)).toEqual(Array(20).fill(202));
  const servers = await settledServers(
    os,
    created.map((reply) => reply.body.server.id),
    180_000,
  );

  expect(servers.filter((server) => server.status === 'ACTIVE')).toHaveLength(10);
  const failed = servers.filter((server) => server.status === 'ERROR');
  expect(failed).toHaveLength(10);
  for (const server of failed)
    expect(server.fault?.message).toMatch(/No valid host was found\. Filter RamFilter returned 0 hosts/);
  for (const host of system.rig!.hosts) {
    const { state } = await system.store.fold(streamFor('host', host.name), hostReducer);
    expect(usedResources(state).ramMb).toBeLessThanOrEqual(capacity(state.inventory!).ramMb);
  }
}, 300_000);

it('lets exactly as many racing boots run as the quota has slots, and fails the rest with its fault', async () => {
  type Listed = { servers: { id: string; tenant_id: string }[] };
  const listed = await os.compute<Listed>('GET', '/servers/detail');
  const projectId = listed.body.servers[0]!.tenant_id;
  await Promise.all(listed.body.servers.map((server) => os.compute('DELETE', `/servers/${server.id}`)));
  await eventually(
    'every server of the first burst deleted',
    async () => {
      const { body } = await os.compute<Listed>('GET', '/servers');
      return body.servers.length === 0 ? true : undefined;
    },
    120_000,
  );
  const quota = await os.compute('PUT', `/os-quota-sets/${projectId}`, { quota_set: { instances: 2 } });
  expect(quota.status).toBe(200);

  const created = await bootServers(os, 'quota', 5);
  // A boot that saw the others already counted is refused at once, as Nova's API does.
  for (const reply of created) expect([202, 403]).toContain(reply.status);
  const ids = created.filter((reply) => reply.status === 202).map((reply) => reply.body.server.id);
  expect(ids.length).toBeGreaterThan(2);
  const servers = await settledServers(os, ids, 180_000);

  expect(servers.filter((server) => server.status === 'ACTIVE')).toHaveLength(2);
  for (const server of servers.filter((one) => one.status === 'ERROR')) {
    expect(server.fault).toMatchObject({ code: 403 });
    expect(server.fault?.message).toMatch(
      /^Quota exceeded for instances: Requested 1, but already used \d+ of 2 instances$/,
    );
  }
}, 300_000);
