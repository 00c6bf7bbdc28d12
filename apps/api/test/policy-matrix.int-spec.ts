import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, type HttpResult, startHarness } from './support/api-harness.js';
import { makeActive, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

interface Probe {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly microversion?: string;
  readonly raw?: Buffer;
}

/**
 * Two projects, a member in each, an admin, and a reader: every endpoint is asked by the wrong party and
 * must answer what Nova answers, 404 for another project's objects (they do not exist for the caller) and
 * 403 with Nova's policy message for admin-only calls, without appending anything.
 */
describe('policy matrix', () => {
  let harness: Harness;
  let admin: string;
  let owner: Member;
  let stranger: Member;
  let reader: Member;
  const ids: Record<string, string> = {};

  const ask = (token: string, probe: Probe): Promise<HttpResult> =>
    harness.request(probe.method, probe.path, {
      token,
      ...(probe.body === undefined ? {} : { body: probe.body }),
      ...(probe.raw === undefined
        ? {}
        : { raw: probe.raw, headers: { 'Content-Type': 'application/octet-stream' } }),
      microversion: probe.microversion ?? '2.37',
    });

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    owner = await harness.member('matrix-a', 'matrix-owner');
    stranger = await harness.member('matrix-b', 'matrix-stranger');
    reader = await harness.member('matrix-a', 'matrix-reader', 'reader');
    await registerHost(harness, 'hv-m');
    harness.liveness.up.add('hv-m');
    const image = await harness.request('POST', '/image/v2/images', {
      token: owner.token,
      body: { name: 'owner-image', visibility: 'private' },
    });
    ids['image'] = String((image.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${ids['image']}/file`, {
      token: owner.token,
      raw: Buffer.from('owner bytes'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const server = await harness.request('POST', '/v2.1/servers', {
      token: owner.token,
      microversion: '2.37',
      body: { server: { name: 'owned', imageRef: ids['image'], flavorRef: '0', networks: 'none' } },
    });
    ids['server'] = String((server.body as { server: Json }).server['id']);
    await makeActive(harness, ids['server'], 'hv-m');
    const group = await harness.request('POST', '/v2.1/os-server-groups', {
      token: owner.token,
      microversion: '2.64',
      body: { server_group: { name: 'owned-group', policy: 'affinity' } },
    });
    ids['group'] = String((group.body as { server_group: Json }).server_group['id']);
    await harness.request('POST', '/v2.1/os-keypairs', {
      token: owner.token,
      body: { keypair: { name: 'owned-key' } },
    });
    const actions = await harness.request('GET', `/v2.1/servers/${ids['server']}/os-instance-actions`, {
      token: owner.token,
    });
    ids['request'] = String((actions.body as { instanceActions: Json[] }).instanceActions[0]!['request_id']);
  }, 40_000);

  afterAll(async () => {
    await harness.stop();
  });

  const foreignObjects = (): [string, Probe][] => [
    ['show a server', { method: 'GET', path: `/v2.1/servers/${ids['server']}` }],
    [
      'update a server',
      { method: 'PUT', path: `/v2.1/servers/${ids['server']}`, body: { server: { name: 'stolen' } } },
    ],
    ['delete a server', { method: 'DELETE', path: `/v2.1/servers/${ids['server']}` }],
    [
      'stop a server',
      { method: 'POST', path: `/v2.1/servers/${ids['server']}/action`, body: { 'os-stop': null } },
    ],
    [
      'start a server',
      { method: 'POST', path: `/v2.1/servers/${ids['server']}/action`, body: { 'os-start': null } },
    ],
    [
      'reboot a server',
      { method: 'POST', path: `/v2.1/servers/${ids['server']}/action`, body: { reboot: { type: 'SOFT' } } },
    ],
    [
      'read its console',
      { method: 'POST', path: `/v2.1/servers/${ids['server']}/action`, body: { 'os-getConsoleOutput': {} } },
    ],
    [
      'open its console (legacy)',
      {
        method: 'POST',
        path: `/v2.1/servers/${ids['server']}/action`,
        body: { 'os-getVNCConsole': { type: 'novnc' } },
        microversion: '2.1',
      },
    ],
    [
      'open its console',
      {
        method: 'POST',
        path: `/v2.1/servers/${ids['server']}/remote-consoles`,
        body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
        microversion: '2.6',
      },
    ],
    ['list its actions', { method: 'GET', path: `/v2.1/servers/${ids['server']}/os-instance-actions` }],
    [
      'show one of its actions',
      { method: 'GET', path: `/v2.1/servers/${ids['server']}/os-instance-actions/${ids['request']}` },
    ],
    ['show a server group', { method: 'GET', path: `/v2.1/os-server-groups/${ids['group']}` }],
    ['delete a server group', { method: 'DELETE', path: `/v2.1/os-server-groups/${ids['group']}` }],
    ['show a key pair (per user)', { method: 'GET', path: '/v2.1/os-keypairs/owned-key' }],
    ['delete a key pair (per user)', { method: 'DELETE', path: '/v2.1/os-keypairs/owned-key' }],
    ['show a private image', { method: 'GET', path: `/image/v2/images/${ids['image']}` }],
    ['download a private image', { method: 'GET', path: `/image/v2/images/${ids['image']}/file` }],
    ['delete a private image', { method: 'DELETE', path: `/image/v2/images/${ids['image']}` }],
    [
      'upload to a private image',
      { method: 'PUT', path: `/image/v2/images/${ids['image']}/file`, raw: Buffer.from('x') },
    ],
  ];

  it('hides every object of another project behind 404, and appends nothing', async () => {
    const before = await harness.headPosition();
    for (const [name, probe] of foreignObjects()) {
      const answer = await ask(stranger.token, probe);
      expect([name, answer.status]).toEqual([name, 404]);
      expect(answer.body).toEqual({ itemNotFound: { code: 404, message: expect.any(String) } });
    }
    expect(await harness.headPosition()).toBe(before);
    // The owner and an admin do see them.
    expect((await ask(owner.token, foreignObjects()[0]![1])).status).toBe(200);
    expect((await ask(admin, foreignObjects()[0]![1])).status).toBe(200);
  });

  const adminOnly = (): [string, Probe, string][] => [
    [
      'list hypervisors',
      { method: 'GET', path: '/v2.1/os-hypervisors' },
      'os_compute_api:os-hypervisors:list',
    ],
    [
      'list hypervisors in detail',
      { method: 'GET', path: '/v2.1/os-hypervisors/detail' },
      'os_compute_api:os-hypervisors:list-detail',
    ],
    [
      'show a hypervisor',
      { method: 'GET', path: '/v2.1/os-hypervisors/1' },
      'os_compute_api:os-hypervisors:show',
    ],
    ['list services', { method: 'GET', path: '/v2.1/os-services' }, 'os_compute_api:os-services:list'],
    [
      'disable a service',
      { method: 'PUT', path: '/v2.1/os-services/disable', body: { host: 'hv-m', binary: 'nova-compute' } },
      'os_compute_api:os-services:update',
    ],
    [
      'create a flavor',
      { method: 'POST', path: '/v2.1/flavors', body: { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } } },
      'os_compute_api:os-flavor-manage:create',
    ],
    [
      'delete a flavor',
      { method: 'DELETE', path: '/v2.1/flavors/0' },
      'os_compute_api:os-flavor-manage:delete',
    ],
    [
      'list zones in detail',
      { method: 'GET', path: '/v2.1/os-availability-zone/detail' },
      'os_compute_api:os-availability-zone:detail',
    ],
    [
      'update a quota',
      { method: 'PUT', path: '/v2.1/os-quota-sets/any', body: { quota_set: { instances: 99 } } },
      'os_compute_api:os-quota-sets:update',
    ],
    [
      'list servers of all projects',
      { method: 'GET', path: '/v2.1/servers/detail?all_tenants=1' },
      'os_compute_api:servers:detail:get_all_tenants',
    ],
    [
      'list servers of all projects (basic)',
      { method: 'GET', path: '/v2.1/servers?all_tenants=True' },
      'os_compute_api:servers:index:get_all_tenants',
    ],
    [
      'force a host',
      {
        method: 'POST',
        path: '/v2.1/servers',
        body: {
          server: {
            name: 'forced',
            imageRef: '00000000-0000-4000-8000-000000000000',
            flavorRef: '0',
            networks: 'none',
            availability_zone: 'nova:hv-m',
          },
        },
      },
      'os_compute_api:servers:create:forced_host',
    ],
    [
      "read another project's limits",
      { method: 'GET', path: '/v2.1/limits?tenant_id=other' },
      'os_compute_api:limits:other_project',
    ],
    [
      "read another project's quotas",
      { method: 'GET', path: '/v2.1/os-quota-sets/other' },
      'os_compute_api:os-quota-sets:show',
    ],
  ];

  it("refuses admin-only calls to members with Nova's policy message, and appends nothing", async () => {
    const before = await harness.headPosition();
    for (const token of [owner.token, stranger.token]) {
      for (const [name, probe, rule] of adminOnly()) {
        const answer = await ask(token, probe);
        expect([name, answer.status, answer.body]).toEqual([
          name,
          403,
          { forbidden: { code: 403, message: `Policy doesn't allow ${rule} to be performed.` } },
        ]);
      }
    }
    expect(await harness.headPosition()).toBe(before);
    expect((await ask(admin, adminOnly()[0]![1])).status).toBe(200);
  });

  it('lists nothing of another project', async () => {
    const servers = await ask(stranger.token, { method: 'GET', path: '/v2.1/servers/detail' });
    expect((servers.body as { servers: Json[] }).servers).toEqual([]);
    const images = await ask(stranger.token, { method: 'GET', path: '/image/v2/images' });
    expect((images.body as { images: Json[] }).images.map((image) => image['id'])).not.toContain(
      ids['image'],
    );
    const groups = await ask(stranger.token, {
      method: 'GET',
      path: '/v2.1/os-server-groups?all_projects=1',
    });
    expect((groups.body as { server_groups: Json[] }).server_groups).toEqual([]);
    const keys = await ask(stranger.token, { method: 'GET', path: '/v2.1/os-keypairs' });
    expect((keys.body as { keypairs: Json[] }).keypairs).toEqual([]);
    const limits = await ask(stranger.token, { method: 'GET', path: '/v2.1/limits' });
    expect((limits.body as { limits: { absolute: Json } }).limits.absolute['totalInstancesUsed']).toBe(0);
    const boot = await ask(stranger.token, {
      method: 'POST',
      path: '/v2.1/servers',
      body: { server: { name: 'x', imageRef: ids['image'], flavorRef: '0', networks: 'none' } },
    });
    expect(boot.body).toEqual({ badRequest: { code: 400, message: 'Can not find requested image' } });
    const hint = await ask(stranger.token, {
      method: 'POST',
      path: '/v2.1/servers',
      body: {
        server: { name: 'x', imageRef: ids['image'], flavorRef: '0', networks: 'none' },
        'os:scheduler_hints': { group: ids['group'] },
      },
    });
    expect(hint.status).toBe(400);
  });

  it('lets a reader read its project but change nothing', async () => {
    expect((await ask(reader.token, { method: 'GET', path: `/v2.1/servers/${ids['server']}` })).status).toBe(
      200,
    );
    const before = await harness.headPosition();
    const writes: [Probe, string][] = [
      [
        {
          method: 'POST',
          path: '/v2.1/servers',
          body: { server: { name: 'r', imageRef: ids['image'], flavorRef: '0', networks: 'none' } },
        },
        'os_compute_api:servers:create',
      ],
      [{ method: 'DELETE', path: `/v2.1/servers/${ids['server']}` }, 'os_compute_api:servers:delete'],
      [
        { method: 'POST', path: `/v2.1/servers/${ids['server']}/action`, body: { 'os-stop': null } },
        'os_compute_api:servers:stop',
      ],
      [{ method: 'POST', path: '/image/v2/images', body: { name: 'r' } }, 'add_image'],
    ];
    for (const [probe, rule] of writes) {
      const answer = await ask(reader.token, probe);
      expect([probe.path, answer.status, answer.body]).toEqual([
        probe.path,
        403,
        { forbidden: { code: 403, message: `Policy doesn't allow ${rule} to be performed.` } },
      ]);
    }
    expect(await harness.headPosition()).toBe(before);
  });

  it('answers 401 in the Keystone shape for any call without a valid token', async () => {
    for (const path of ['/v2.1/servers', '/image/v2/images', '/v2.1/os-hypervisors', '/v3/auth/tokens']) {
      const answer = await harness.request('GET', path, { token: 'nmb1.not.valid' });
      expect([path, answer.status, answer.body]).toEqual([
        path,
        401,
        {
          error: {
            code: 401,
            message: 'The request you have made requires authentication.',
            title: 'Unauthorized',
          },
        },
      ]);
    }
  });
});
