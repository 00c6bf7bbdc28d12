import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { eventually } from '../../../test/support/eventually.js';
import { deleted, failed, makeActive, registerHost, startedAgain, stopped } from './support/simulate.js';

type Json = Record<string, unknown>;
const server = (body: unknown): Json => (body as { server: Json }).server;

/** Key order of Nova's server document for an admin, from the Nova Zed transcripts. */
const SHOW_KEYS_237 = [
  'id',
  'name',
  'status',
  'tenant_id',
  'user_id',
  'metadata',
  'hostId',
  'image',
  'flavor',
  'created',
  'updated',
  'addresses',
  'accessIPv4',
  'accessIPv6',
  'links',
  'OS-DCF:diskConfig',
  'progress',
  'OS-EXT-AZ:availability_zone',
  'config_drive',
  'key_name',
  'OS-SRV-USG:launched_at',
  'OS-SRV-USG:terminated_at',
  'OS-EXT-SRV-ATTR:host',
  'OS-EXT-SRV-ATTR:instance_name',
  'OS-EXT-SRV-ATTR:hypervisor_hostname',
  'OS-EXT-SRV-ATTR:reservation_id',
  'OS-EXT-SRV-ATTR:launch_index',
  'OS-EXT-SRV-ATTR:hostname',
  'OS-EXT-SRV-ATTR:kernel_id',
  'OS-EXT-SRV-ATTR:ramdisk_id',
  'OS-EXT-SRV-ATTR:root_device_name',
  'OS-EXT-SRV-ATTR:user_data',
  'OS-EXT-STS:task_state',
  'OS-EXT-STS:vm_state',
  'OS-EXT-STS:power_state',
  'os-extended-volumes:volumes_attached',
  'host_status',
  'locked',
  'description',
  'tags',
];
const SHOW_KEYS_21 = [
  ...SHOW_KEYS_237.slice(0, SHOW_KEYS_237.indexOf('OS-EXT-SRV-ATTR:reservation_id')),
  'OS-EXT-STS:task_state',
  'OS-EXT-STS:vm_state',
  'OS-EXT-STS:power_state',
  'os-extended-volumes:volumes_attached',
];
const SHOW_KEYS_292 = [
  ...SHOW_KEYS_237.slice(0, SHOW_KEYS_237.indexOf('locked')),
  'locked',
  'locked_reason',
  'description',
  'tags',
  'trusted_image_certificates',
  'server_groups',
];
const DETAIL_KEYS_292 = [
  ...SHOW_KEYS_237.slice(0, SHOW_KEYS_237.indexOf('host_status')),
  'locked',
  'locked_reason',
  'description',
  'tags',
  'trusted_image_certificates',
  'host_status',
];

describe('servers', () => {
  let harness: Harness;
  let admin: string;
  let alice: Member;
  let imageId: string;

  const create = async (token: string, body: Json, microversion = '2.37') =>
    harness.request('POST', '/v2.1/servers', { token, microversion, body: { server: body } });
  const boot = async (
    token: string,
    name: string,
    extra: Json = {},
    microversion = '2.37',
  ): Promise<string> => {
    const created = await create(
      token,
      { name, imageRef: imageId, flavorRef: '0', networks: 'none', ...extra },
      microversion,
    );
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    return String(server(created.body)['id']);
  };
  const show = async (token: string, id: string, microversion = '2.37') =>
    harness.request('GET', `/v2.1/servers/${id}`, { token, microversion });

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    alice = await harness.member('servers-alice', 'servers-alice');
    const image = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'boot', disk_format: 'raw', container_format: 'bare', visibility: 'public' },
    });
    imageId = String((image.body as Json)['id']);
    const upload = await harness.request('PUT', `/image/v2/images/${imageId}/file`, {
      token: admin,
      raw: Buffer.from('boot sector'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    expect(upload.status).toBe(204);
    await registerHost(harness, 'hv-1');
    harness.liveness.up.add('hv-1');
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it("answers a create with Nova's 202 body and Location, and shows the server in BUILD", async () => {
    const created = await create(alice.token, {
      name: 'web-1',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
      min_count: 1,
      max_count: 1,
    });
    expect(created.status).toBe(202);
    const body = server(created.body);
    expect(Object.keys(body)).toEqual(['id', 'links', 'OS-DCF:diskConfig', 'security_groups', 'adminPass']);
    expect(body).toMatchObject({ 'OS-DCF:diskConfig': 'MANUAL', security_groups: [{ name: 'default' }] });
    expect(body['adminPass']).toMatch(/^[A-Za-z0-9]{12}$/);
    const id = String(body['id']);
    expect(created.headers.get('location')).toBe(`${harness.url}/v2.1/servers/${id}`);
    expect(created.headers.get('x-compute-request-id')).toBe(created.headers.get('x-openstack-request-id'));
    expect(created.headers.get('openstack-api-version')).toBe('compute 2.37');
    expect(created.headers.get('x-openstack-nova-api-version')).toBe('2.37');
    expect(created.headers.get('vary')).toBe('OpenStack-API-Version, X-OpenStack-Nova-API-Version');

    const shown = server((await show(alice.token, id)).body);
    expect(shown).toMatchObject({
      id,
      name: 'web-1',
      status: 'BUILD',
      tenant_id: alice.projectId,
      user_id: alice.userId,
      hostId: '',
      addresses: {},
      'OS-EXT-STS:task_state': 'scheduling',
      'OS-EXT-STS:vm_state': 'building',
      'OS-EXT-STS:power_state': 0,
      locked: false,
      description: null,
      tags: [],
    });
    expect(shown['image']).toEqual({
      id: imageId,
      links: [{ rel: 'bookmark', href: `${harness.url}/images/${imageId}` }],
    });
    expect(shown['flavor']).toEqual({
      id: '0',
      links: [{ rel: 'bookmark', href: `${harness.url}/flavors/0` }],
    });
    // A member does not see the admin-only attributes.
    expect(
      Object.keys(shown).filter((key) => key.startsWith('OS-EXT-SRV-ATTR') || key === 'host_status'),
    ).toEqual([]);

    const asAdmin = server((await show(admin, id)).body);
    expect(Object.keys(asAdmin)).toEqual(SHOW_KEYS_237);
  });

  it("correlates the create's events with its request id and records the owner as actor", async () => {
    const created = await create(alice.token, {
      name: 'corr',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
    });
    const id = String(server(created.body)['id']);
    const events = [];
    for await (const event of harness.store.read(`instance-${id}`)) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['BootRequested']);
    expect(events[0]?.metadata.correlationId).toBe(created.headers.get('x-openstack-request-id'));
    expect(events[0]?.metadata.actor).toEqual({
      userId: alice.userId,
      projectId: alice.projectId,
      kind: 'user',
    });
  });

  it("shows ACTIVE with Nova's hostId, host attributes and zone once scheduled and started", async () => {
    const id = await boot(alice.token, 'active-1');
    await makeActive(harness, id, 'hv-1');
    const asAdmin = server((await show(admin, id, '2.37')).body);
    expect(Object.keys(asAdmin)).toEqual(SHOW_KEYS_237);
    expect(asAdmin).toMatchObject({
      status: 'ACTIVE',
      hostId: createHash('sha224').update(`${alice.projectId}hv-1`).digest('hex'),
      'OS-EXT-AZ:availability_zone': 'nova',
      'OS-EXT-SRV-ATTR:host': 'hv-1',
      'OS-EXT-SRV-ATTR:hypervisor_hostname': 'hv-1',
      'OS-EXT-SRV-ATTR:instance_name': `nimbus-${id}`,
      'OS-EXT-SRV-ATTR:hostname': 'active-1',
      'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
      'OS-EXT-STS:task_state': null,
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
      host_status: 'UP',
      progress: 0,
    });
    expect(asAdmin['OS-SRV-USG:launched_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/);
    expect(asAdmin['created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Object.keys(server((await show(admin, id, '2.1')).body))).toEqual(SHOW_KEYS_21);
    expect(Object.keys(server((await show(admin, id, '2.92')).body))).toEqual(SHOW_KEYS_292);
    const embedded = server((await show(alice.token, id, '2.47')).body)['flavor'];
    expect(embedded).toEqual({
      vcpus: 1,
      ram: 64,
      disk: 0,
      ephemeral: 0,
      swap: 0,
      original_name: 'm1.nano',
      extra_specs: {},
    });

    const detail = await harness.request('GET', '/v2.1/servers/detail?all_tenants=1', {
      token: admin,
      microversion: '2.92',
    });
    const entry = (detail.body as { servers: Json[] }).servers.find((candidate) => candidate['id'] === id)!;
    expect(Object.keys(entry)).toEqual(DETAIL_KEYS_292);
  });

  it('stops and starts, refusing what Nova refuses in each state', async () => {
    const id = await boot(alice.token, 'power-1');
    const early = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-stop': null },
    });
    expect(early.status).toBe(409);
    expect(early.body).toEqual({
      conflictingRequest: {
        code: 409,
        message: `Cannot 'stop' instance ${id} while it is in task_state scheduling`,
      },
    });
    await makeActive(harness, id, 'hv-1');
    const stop = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-stop': null },
    });
    expect(stop.status).toBe(202);
    expect(stop.text).toBe('');
    expect(server((await show(alice.token, id)).body)['OS-EXT-STS:task_state']).toBe('powering-off');
    await stopped(harness, id, 'hv-1');
    const off = server((await show(alice.token, id)).body);
    expect(off).toMatchObject({
      status: 'SHUTOFF',
      'OS-EXT-STS:vm_state': 'stopped',
      'OS-EXT-STS:power_state': 4,
    });
    expect(off).not.toHaveProperty('progress');
    const again = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-stop': null },
    });
    expect(again.status).toBe(409);
    const start = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-start': null },
    });
    expect(start.status).toBe(202);
    await startedAgain(harness, id, 'hv-1');
    const reboot = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { reboot: { type: 'HARD' } },
    });
    expect(reboot.status).toBe(202);
    expect(server((await show(alice.token, id)).body)['status']).toBe('HARD_REBOOT');
  });

  it('shows ERROR with the fault, its details to admins only', async () => {
    const id = await boot(alice.token, 'broken-1');
    await failed(
      harness,
      id,
      'No valid host was found. There are not enough hosts available.',
      'Traceback: details',
    );
    const asMember = server((await show(alice.token, id)).body);
    expect(asMember['status']).toBe('ERROR');
    expect(asMember['fault']).toEqual({
      code: 500,
      created: expect.stringMatching(/Z$/),
      message: 'No valid host was found. There are not enough hosts available.',
    });
    expect(asMember).not.toHaveProperty('progress');
    expect((server((await show(admin, id)).body)['fault'] as Json)['details']).toBe('Traceback: details');
  });

  it('deletes: 204, then deleting, then 404 once the agent is done; its actions stay readable from 2.21', async () => {
    const id = await boot(alice.token, 'gone-1');
    const removed = await harness.request('DELETE', `/v2.1/servers/${id}`, { token: alice.token });
    expect(removed.status).toBe(204);
    expect(server((await show(alice.token, id)).body)['OS-EXT-STS:task_state']).toBe('deleting');
    await deleted(harness, id, null);
    const missing = await show(alice.token, id);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      itemNotFound: { code: 404, message: `Instance ${id} could not be found.` },
    });
    const actions = await harness.request('GET', `/v2.1/servers/${id}/os-instance-actions`, {
      token: alice.token,
      microversion: '2.21',
    });
    expect(actions.status).toBe(200);
    const list = (actions.body as { instanceActions: Json[] }).instanceActions;
    expect(list.map((action) => action['action'])).toEqual(['delete', 'create']);
    expect(list[0]).toMatchObject({
      instance_uuid: id,
      request_id: removed.headers.get('x-openstack-request-id'),
      message: null,
    });
    expect(Object.keys(list[0]!)).toEqual([
      'action',
      'instance_uuid',
      'request_id',
      'user_id',
      'project_id',
      'start_time',
      'message',
    ]);
    const old = await harness.request('GET', `/v2.1/servers/${id}/os-instance-actions`, {
      token: alice.token,
      microversion: '2.1',
    });
    expect(old.status).toBe(404);
    const detail = await harness.request(
      'GET',
      `/v2.1/servers/${id}/os-instance-actions/${String(list[1]!['request_id'])}`,
      {
        token: alice.token,
        microversion: '2.58',
      },
    );
    expect((detail.body as { instanceAction: Json }).instanceAction).toMatchObject({
      action: 'create',
      events: [],
    });
    expect((await harness.request('DELETE', `/v2.1/servers/${id}`, { token: alice.token })).status).toBe(404);
  });

  it('renames and describes a server; a description is refused before 2.19', async () => {
    const created = await create(
      alice.token,
      { name: 'desc-1', imageRef: imageId, flavorRef: '0', networks: 'none', description: 'blue' },
      '2.37',
    );
    const id = String(server(created.body)['id']);
    const events = [];
    for await (const event of harness.store.read(`instance-${id}`)) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['BootRequested', 'ServerUpdated']);
    expect(events[1]?.position?.commit).toBeDefined();
    const updated = await harness.request('PUT', `/v2.1/servers/${id}`, {
      token: alice.token,
      microversion: '2.19',
      body: { server: { name: 'desc-2', description: null } },
    });
    expect(updated.status).toBe(200);
    expect(server(updated.body)).toMatchObject({ name: 'desc-2', description: null });
    expect(server(updated.body)).not.toHaveProperty('OS-EXT-STS:vm_state');
    const full = await harness.request('PUT', `/v2.1/servers/${id}`, {
      token: alice.token,
      microversion: '2.75',
      body: { server: { name: 'desc-3' } },
    });
    expect(server(full.body)).toHaveProperty('OS-EXT-STS:vm_state', 'building');
    const old = await harness.request('PUT', `/v2.1/servers/${id}`, {
      token: alice.token,
      microversion: '2.18',
      body: { server: { description: 'x' } },
    });
    expect(old.status).toBe(400);
    expect(old.body).toEqual({
      badRequest: {
        code: 400,
        message:
          "Invalid input for field/attribute server. Value: {'description': 'x'}. Additional properties are not allowed ('description' was unexpected)",
      },
    });
    const legacy = await create(
      alice.token,
      { name: 'legacy-desc', imageRef: imageId, flavorRef: '0' },
      '2.1',
    );
    expect(
      server((await show(alice.token, String(server(legacy.body)['id']), '2.19')).body)['description'],
    ).toBe('legacy-desc');
  });

  it('lists newest first with paging links, and filters by name, status and changes-since', async () => {
    const pager = await harness.member('servers-pager', 'servers-pager');
    const ids = [];
    for (const name of ['page-a', 'page-b', 'page-c', 'other-d']) ids.push(await boot(pager.token, name));
    const first = await harness.request('GET', '/v2.1/servers?limit=2', { token: pager.token });
    const page1 = first.body as { servers: Json[]; servers_links: { rel: string; href: string }[] };
    expect(page1.servers.map((entry) => entry['name'])).toEqual(['other-d', 'page-c']);
    expect(Object.keys(page1.servers[0]!)).toEqual(['id', 'name', 'links']);
    expect(page1.servers_links).toEqual([
      { rel: 'next', href: `${harness.url}/v2.1/servers?limit=2&marker=${ids[2]}` },
    ]);
    const second = await harness.request('GET', page1.servers_links[0]!.href.slice(harness.url.length), {
      token: pager.token,
    });
    expect((second.body as { servers: Json[] }).servers.map((entry) => entry['name'])).toEqual([
      'page-b',
      'page-a',
    ]);
    const byName = await harness.request('GET', '/v2.1/servers?name=^page-[ab]$', { token: pager.token });
    expect((byName.body as { servers: Json[] }).servers.map((entry) => entry['name'])).toEqual([
      'page-b',
      'page-a',
    ]);
    await makeActive(harness, ids[0]!, 'hv-1');
    const active = await harness.request('GET', '/v2.1/servers/detail?status=ACTIVE', { token: pager.token });
    expect((active.body as { servers: Json[] }).servers.map((entry) => entry['name'])).toEqual(['page-a']);
    const badStatus = await harness.request('GET', '/v2.1/servers?status=SLEEPY', {
      token: pager.token,
      microversion: '2.38',
    });
    expect(badStatus.body).toEqual({ badRequest: { code: 400, message: 'Invalid status value' } });
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await harness.request('GET', `/v2.1/servers?changes-since=${future}`, {
      token: pager.token,
    });
    expect((none.body as { servers: Json[] }).servers).toEqual([]);
    const badMarker = await harness.request(
      'GET',
      '/v2.1/servers?marker=00000000-0000-4000-8000-000000000000',
      { token: pager.token },
    );
    expect(badMarker.status).toBe(400);
    const onHost = await harness.request('GET', '/v2.1/servers?host=hv-1&all_tenants=1', { token: admin });
    expect((onHost.body as { servers: Json[] }).servers.map((entry) => entry['id'])).toContain(ids[0]);
    const elsewhere = await harness.request('GET', '/v2.1/servers?host=hv-2&all_tenants=1', { token: admin });
    expect((elsewhere.body as { servers: Json[] }).servers.map((entry) => entry['id'])).not.toContain(ids[0]);
    // A filter only admins may use is dropped for members, as Nova drops it: the whole list comes back.
    const memberOnHost = await harness.request('GET', '/v2.1/servers?host=hv-2', { token: pager.token });
    expect(memberOnHost.status).toBe(200);
    expect((memberOnHost.body as { servers: Json[] }).servers).toHaveLength(4);

    // Sorted by name, pages follow the same order through the marker; an unknown key is Nova's 400.
    const byNameAsc = async (query: string) =>
      (
        (
          await harness.request(
            'GET',
            `/v2.1/servers/detail?sort_key=display_name&sort_dir=asc&limit=3${query}`,
            {
              token: pager.token,
              microversion: '2.42',
            },
          )
        ).body as { servers: Json[] }
      ).servers.map((entry) => entry['name']);
    expect(await byNameAsc('')).toEqual(['other-d', 'page-a', 'page-b']);
    expect(await byNameAsc(`&marker=${ids[1]}`)).toEqual(['page-c']);
    const unknownKey = await harness.request('GET', '/v2.1/servers?sort_key=shoe_size', {
      token: pager.token,
    });
    expect(unknownKey.status).toBe(400);
  });

  it("enforces the instances quota with Nova's message, and names the servers of a multi-create", async () => {
    const quota = await harness.member('servers-quota', 'servers-quota');
    const set = await harness.request('PUT', `/v2.1/os-quota-sets/${quota.projectId}`, {
      token: admin,
      body: { quota_set: { instances: 3 } },
    });
    expect(set.status).toBe(200);
    const many = await create(quota.token, {
      name: 'many',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
      min_count: 2,
      max_count: 2,
    });
    expect(many.status).toBe(202);
    const listed = await harness.request('GET', '/v2.1/servers', { token: quota.token });
    expect((listed.body as { servers: Json[] }).servers.map((entry) => entry['name']).sort()).toEqual([
      'many-1',
      'many-2',
    ]);
    const partly = await create(quota.token, {
      name: 'partly',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
      min_count: 1,
      max_count: 5,
    });
    expect(partly.status).toBe(202);
    const refused = await create(quota.token, {
      name: 'over',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      forbidden: {
        code: 403,
        message: 'Quota exceeded for instances: Requested 1, but already used 3 of 3 instances',
      },
    });
    const limits = await harness.request('GET', '/v2.1/limits', { token: quota.token });
    expect((limits.body as { limits: { absolute: Json } }).limits.absolute).toMatchObject({
      maxTotalInstances: 3,
      totalInstancesUsed: 3,
      totalCoresUsed: 3,
      totalRAMUsed: 192,
    });
  });

  it('negotiates microversions as Nova does', async () => {
    const latest = await harness.request('GET', '/v2.1/servers', {
      token: alice.token,
      microversion: 'latest',
    });
    expect(latest.headers.get('openstack-api-version')).toBe('compute 2.93');
    const legacy = await harness.request('GET', '/v2.1/servers', {
      token: alice.token,
      headers: { 'X-OpenStack-Nova-API-Version': '2.12' },
    });
    expect(legacy.headers.get('x-openstack-nova-api-version')).toBe('2.12');
    const tooNew = await harness.request('GET', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.94',
    });
    expect(tooNew.status).toBe(406);
    expect(tooNew.body).toEqual({
      computeFault: {
        code: 406,
        message: 'Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93.',
      },
    });
    const garbled = await harness.request('GET', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.x',
    });
    expect(garbled.status).toBe(400);
    const version = await harness.request('GET', '/v2.1');
    expect(version.body).toMatchObject({ version: { id: 'v2.1', version: '2.93', min_version: '2.1' } });
    expect(version.headers.get('openstack-api-version')).toBe('compute 2.1');
  });

  it("requires networks from 2.37 and refuses an unknown image, flavor and key pair with Nova's messages", async () => {
    const noNetworks = await create(alice.token, { name: 'n', imageRef: imageId, flavorRef: '0' }, '2.37');
    expect((noNetworks.body as { badRequest: { message: string } }).badRequest.message).toContain(
      "'networks' is a required property",
    );
    const badImage = await create(alice.token, {
      name: 'n',
      imageRef: '11111111-2222-4333-8444-555555555555',
      flavorRef: '0',
      networks: 'none',
    });
    expect(badImage.body).toEqual({ badRequest: { code: 400, message: 'Can not find requested image' } });
    const badFlavor = await create(alice.token, {
      name: 'n',
      imageRef: imageId,
      flavorRef: '99',
      networks: 'none',
    });
    expect(badFlavor.body).toEqual({ badRequest: { code: 400, message: 'Flavor 99 could not be found.' } });
    const badKey = await create(alice.token, {
      name: 'n',
      imageRef: imageId,
      flavorRef: '0',
      networks: 'none',
      key_name: 'nope',
    });
    expect(badKey.body).toEqual({ badRequest: { code: 400, message: 'Invalid key_name provided.' } });
    const flavorByLink = await create(alice.token, {
      name: 'linked',
      imageRef: `${harness.url}/images/${imageId}`,
      flavorRef: `${harness.url}/flavors/0`,
      networks: 'auto',
    });
    expect(flavorByLink.status).toBe(202);
  });

  it('renders a listed server exactly as its show, the projection and the stream folding alike', async () => {
    const id = await boot(alice.token, 'steady-1');
    await makeActive(harness, id, 'hv-1');
    await eventually('the listing to show steady-1 ACTIVE', async () => {
      const listed = await harness.request('GET', '/v2.1/servers/detail?name=^steady-1$', {
        token: alice.token,
      });
      return (listed.body as { servers: Json[] }).servers[0]?.['status'] === 'ACTIVE' ? true : undefined;
    });
    const listed = await harness.request('GET', '/v2.1/servers/detail?name=^steady-1$', {
      token: alice.token,
      microversion: '2.37',
    });
    const shown = await show(alice.token, id, '2.37');
    expect((listed.body as { servers: Json[] }).servers[0]).toEqual(server(shown.body));
  });
});
