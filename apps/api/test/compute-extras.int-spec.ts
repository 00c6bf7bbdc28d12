import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { claim, deleted, makeActive, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

describe('compute: consoles, key pairs, server groups, flavors, hosts and usage', () => {
  let harness: Harness;
  let admin: string;
  let alice: Member;
  let imageId: string;

  const boot = async (token: string, name: string, extra: Json = {}, hints?: Json): Promise<string> => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token,
      microversion: '2.37',
      body: {
        server: { name, imageRef: imageId, flavorRef: '0', networks: 'none', ...extra },
        ...(hints ? { 'os:scheduler_hints': hints } : {}),
      },
    });
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    return String((created.body as { server: Json }).server['id']);
  };

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    alice = await harness.member('extras-alice', 'extras-alice');
    const image = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'boot', visibility: 'public' },
    });
    imageId = String((image.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${imageId}/file`, {
      token: admin,
      raw: Buffer.from('boot'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    await registerHost(harness, 'hv-a', 'az-east');
    await registerHost(harness, 'hv-b');
    harness.liveness.up.add('hv-a');
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it("asks the compute agent of the server's host for a console, from 2.6 and with the legacy action before", async () => {
    const id = await boot(alice.token, 'console-1');
    const early = await harness.request('POST', `/v2.1/servers/${id}/remote-consoles`, {
      token: alice.token,
      microversion: '2.6',
      body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
    });
    expect(early.status).toBe(409);
    expect(early.body).toEqual({ conflictingRequest: { code: 409, message: `Instance ${id} is not ready` } });
    await makeActive(harness, id, 'hv-a');
    const console = await harness.request('POST', `/v2.1/servers/${id}/remote-consoles`, {
      token: alice.token,
      microversion: '2.8',
      body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
    });
    expect(console.status).toBe(200);
    expect(console.body).toEqual({
      remote_console: { protocol: 'vnc', type: 'novnc', url: expect.stringContaining(`fake-${id}`) },
    });
    expect(harness.rpc.calls.at(-1)).toEqual({
      kind: 'console',
      instanceId: id,
      host: 'hv-a',
      detail: 'novnc',
    });
    const legacy = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-getVNCConsole': { type: 'novnc' } },
    });
    expect(legacy.body).toEqual({ console: { type: 'novnc', url: expect.stringContaining('token') } });
    const spice = await harness.request('POST', `/v2.1/servers/${id}/remote-consoles`, {
      token: alice.token,
      microversion: '2.8',
      body: { remote_console: { protocol: 'spice', type: 'spice-html5' } },
    });
    expect(spice.body).toEqual({
      badRequest: { code: 400, message: 'Unavailable console type spice-html5.' },
    });
    const output = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-getConsoleOutput': { length: 2 } },
    });
    expect(output.status).toBe(200);
    expect((output.body as { output: string }).output).toContain('Nimbus boot sector');
    harness.rpc.unreachable.add('hv-a');
    const silent = await harness.request('POST', `/v2.1/servers/${id}/action`, {
      token: alice.token,
      body: { 'os-getConsoleOutput': {} },
    });
    expect(silent.status).toBe(409);
    harness.rpc.unreachable.delete('hv-a');
  });

  it('generates an ed25519 key pair once, imports a public key, and refuses a duplicate name', async () => {
    const generated = await harness.request('POST', '/v2.1/os-keypairs', {
      token: alice.token,
      microversion: '2.10',
      body: { keypair: { name: 'laptop' } },
    });
    expect(generated.status).toBe(201);
    const keypair = (generated.body as { keypair: Json }).keypair;
    expect(Object.keys(keypair)).toEqual([
      'private_key',
      'type',
      'name',
      'public_key',
      'fingerprint',
      'user_id',
    ]);
    expect(keypair['private_key']).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(keypair['public_key']).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5/);
    expect(keypair['fingerprint']).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const shown = await harness.request('GET', '/v2.1/os-keypairs/laptop', {
      token: alice.token,
      microversion: '2.2',
    });
    expect((shown.body as { keypair: Json }).keypair).not.toHaveProperty('private_key');
    const duplicate = await harness.request('POST', '/v2.1/os-keypairs', {
      token: alice.token,
      body: { keypair: { name: 'laptop' } },
    });
    expect(duplicate.body).toEqual({
      conflictingRequest: { code: 409, message: "Key pair 'laptop' already exists." },
    });
    const imported = await harness.request('POST', '/v2.1/os-keypairs', {
      token: alice.token,
      body: { keypair: { name: 'imported', public_key: String(keypair['public_key']) } },
    });
    expect(imported.status).toBe(200);
    expect((imported.body as { keypair: Json }).keypair['fingerprint']).toBe(keypair['fingerprint']);
    const garbage = await harness.request('POST', '/v2.1/os-keypairs', {
      token: alice.token,
      body: { keypair: { name: 'bad', public_key: 'ssh-rsa notbase64!' } },
    });
    expect(garbage.body).toEqual({
      badRequest: { code: 400, message: 'Keypair data is invalid: failed to generate fingerprint' },
    });
    const listed = await harness.request('GET', '/v2.1/os-keypairs', { token: alice.token });
    expect(
      (listed.body as { keypairs: { keypair: Json }[] }).keypairs.map((entry) => entry.keypair['name']),
    ).toEqual(['imported', 'laptop']);
    const id = await boot(alice.token, 'keyed', { key_name: 'laptop' });
    const server = await harness.request('GET', `/v2.1/servers/${id}`, { token: alice.token });
    expect((server.body as { server: Json }).server['key_name']).toBe('laptop');
    expect(
      (
        await harness.request('DELETE', '/v2.1/os-keypairs/imported', {
          token: alice.token,
          microversion: '2.2',
        })
      ).status,
    ).toBe(204);
    expect(
      (await harness.request('DELETE', '/v2.1/os-keypairs/imported', { token: alice.token })).status,
    ).toBe(404);
  });

  it('creates server groups and boots members into them', async () => {
    const created = await harness.request('POST', '/v2.1/os-server-groups', {
      token: alice.token,
      microversion: '2.64',
      body: { server_group: { name: 'spread', policy: 'anti-affinity' } },
    });
    expect(created.status).toBe(200);
    const group = (created.body as { server_group: Json }).server_group;
    expect(group).toMatchObject({
      name: 'spread',
      policy: 'anti-affinity',
      rules: {},
      members: [],
      project_id: alice.projectId,
    });
    const id = await boot(alice.token, 'member-1', {}, { group: group['id'] });
    const events = [];
    for await (const event of harness.store.read(`instance-${id}`)) events.push(event);
    expect(events[0]?.data).toMatchObject({ serverGroup: { id: group['id'], policy: 'anti-affinity' } });
    const shown = await harness.request('GET', `/v2.1/os-server-groups/${String(group['id'])}`, {
      token: alice.token,
      microversion: '2.1',
    });
    expect((shown.body as { server_group: Json }).server_group).toEqual({
      id: group['id'],
      name: 'spread',
      policies: ['anti-affinity'],
      metadata: {},
      members: [id],
    });
    const server = await harness.request('GET', `/v2.1/servers/${id}`, {
      token: alice.token,
      microversion: '2.71',
    });
    expect((server.body as { server: Json }).server['server_groups']).toEqual([group['id']]);
    const soft = await harness.request('POST', '/v2.1/os-server-groups', {
      token: alice.token,
      microversion: '2.64',
      body: { server_group: { name: 'soft', policy: 'soft-affinity' } },
    });
    expect(soft.status).toBe(400);
    const unknown = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: {
        server: { name: 'x', imageRef: imageId, flavorRef: '0', networks: 'none' },
        'os:scheduler_hints': { group: '00000000-0000-4000-8000-000000000001' },
      },
    });
    expect(unknown.body).toEqual({
      badRequest: {
        code: 400,
        message: 'Instance group 00000000-0000-4000-8000-000000000001 could not be found.',
      },
    });
    expect(
      (
        await harness.request('DELETE', `/v2.1/os-server-groups/${String(group['id'])}`, {
          token: alice.token,
        })
      ).status,
    ).toBe(204);
  });

  it('lets admins create and delete flavors, and lists them as Nova does per microversion', async () => {
    const created = await harness.request('POST', '/v2.1/flavors', {
      token: admin,
      microversion: '2.55',
      body: {
        flavor: {
          name: 'm1.custom',
          id: 'custom',
          ram: 128,
          vcpus: 2,
          disk: 1,
          description: 'made in a test',
        },
      },
    });
    expect(created.status).toBe(200);
    expect((created.body as { flavor: Json }).flavor).toMatchObject({
      id: 'custom',
      ram: 128,
      vcpus: 2,
      disk: 1,
      swap: '',
      description: 'made in a test',
    });
    const duplicate = await harness.request('POST', '/v2.1/flavors', {
      token: admin,
      body: { flavor: { name: 'm1.custom', ram: 1, vcpus: 1, disk: 0 } },
    });
    expect(duplicate.body).toEqual({
      conflictingRequest: { code: 409, message: 'Flavor with name m1.custom already exists.' },
    });
    const listed = await harness.request('GET', '/v2.1/flavors', { token: alice.token });
    expect((listed.body as { flavors: Json[] }).flavors.map((flavor) => flavor['name'])).toEqual([
      'm1.nano',
      'm1.tiny',
      'm1.small',
      'm1.micro',
      'm1.custom',
    ]);
    const detail = await harness.request('GET', '/v2.1/flavors/detail?minRam=512', {
      token: alice.token,
      microversion: '2.75',
    });
    expect(
      (detail.body as { flavors: Json[] }).flavors.map((flavor) => [
        flavor['id'],
        flavor['swap'],
        flavor['extra_specs'],
      ]),
    ).toEqual([
      ['1', 0, {}],
      ['2', 0, {}],
    ]);
    expect((await harness.request('GET', '/v2.1/flavors/m1.tiny', { token: alice.token })).body).toEqual({
      itemNotFound: { code: 404, message: 'Flavor m1.tiny could not be found.' },
    });
    const hidden = await harness.request('POST', '/v2.1/flavors', {
      token: admin,
      body: {
        flavor: {
          name: 'm1.hidden',
          id: 'hidden',
          ram: 64,
          vcpus: 1,
          disk: 0,
          'os-flavor-access:is_public': false,
        },
      },
    });
    expect(hidden.status).toBe(200);
    expect((await harness.request('GET', '/v2.1/flavors/hidden', { token: alice.token })).status).toBe(404);
    const all = await harness.request('GET', '/v2.1/flavors?is_public=None', { token: admin });
    expect((all.body as { flavors: Json[] }).flavors.map((flavor) => flavor['id'])).toContain('hidden');
    const publicOnly = await harness.request('GET', '/v2.1/flavors?is_public=None', { token: alice.token });
    expect((publicOnly.body as { flavors: Json[] }).flavors.map((flavor) => flavor['id'])).not.toContain(
      'hidden',
    );
    const bootHidden = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: { server: { name: 'h', imageRef: imageId, flavorRef: 'hidden', networks: 'none' } },
    });
    expect(bootHidden.body).toEqual({
      badRequest: { code: 400, message: 'Flavor hidden could not be found.' },
    });
    expect((await harness.request('DELETE', '/v2.1/flavors/custom', { token: admin })).status).toBe(202);
    expect((await harness.request('GET', '/v2.1/flavors/custom', { token: admin })).status).toBe(404);
  });

  it('shows hosts as hypervisors, services and zones, and disables a service with an event', async () => {
    const id = await boot(admin, 'on-a');
    await claim(harness, 'hv-a', id);
    const hypervisors = await harness.request('GET', '/v2.1/os-hypervisors/detail', { token: admin });
    const [first, second] = (hypervisors.body as { hypervisors: Json[] }).hypervisors;
    expect(first).toMatchObject({
      id: 1,
      hypervisor_hostname: 'hv-a',
      state: 'up',
      status: 'enabled',
      hypervisor_type: 'QEMU',
      vcpus: 4,
      memory_mb: 8192,
      vcpus_used: 1,
      memory_mb_used: 576,
      running_vms: 1,
      service: { id: 1, host: 'hv-a', disabled_reason: null },
    });
    expect(second).toMatchObject({ hypervisor_hostname: 'hv-b', state: 'down' });
    const modern = await harness.request('GET', '/v2.1/os-hypervisors/detail', {
      token: admin,
      microversion: '2.88',
    });
    expect((modern.body as { hypervisors: Json[] }).hypervisors[0]).not.toHaveProperty('vcpus');
    const zones = await harness.request('GET', '/v2.1/os-availability-zone', { token: alice.token });
    expect((zones.body as { availabilityZoneInfo: Json[] }).availabilityZoneInfo).toEqual([
      { zoneName: 'az-east', zoneState: { available: true }, hosts: null },
      { zoneName: 'nova', zoneState: { available: true }, hosts: null },
    ]);
    const services = await harness.request('GET', '/v2.1/os-services', {
      token: admin,
      microversion: '2.53',
    });
    const service = (services.body as { services: Json[] }).services[0]!;
    expect(service).toMatchObject({
      binary: 'nova-compute',
      host: 'hv-a',
      state: 'up',
      status: 'enabled',
      zone: 'az-east',
      forced_down: false,
    });
    const disabled = await harness.request('PUT', `/v2.1/os-services/${String(service['id'])}`, {
      token: admin,
      microversion: '2.53',
      body: { status: 'disabled', disabled_reason: 'maintenance' },
    });
    expect((disabled.body as { service: Json }).service).toMatchObject({
      status: 'disabled',
      disabled_reason: 'maintenance',
    });
    const events = [];
    for await (const event of harness.store.read('host-hv-a')) events.push(event);
    expect(events.at(-1)).toMatchObject({
      type: 'HostDisabled',
      data: { host: 'hv-a', reason: 'maintenance' },
    });
    const legacy = await harness.request('PUT', '/v2.1/os-services/enable', {
      token: admin,
      body: { host: 'hv-a', binary: 'nova-compute' },
    });
    expect(legacy.body).toEqual({ service: { host: 'hv-a', binary: 'nova-compute', status: 'enabled' } });
    const zone = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: {
        server: {
          name: 'zoned',
          imageRef: imageId,
          flavorRef: '0',
          networks: 'none',
          availability_zone: 'az-west',
        },
      },
    });
    expect(zone.body).toEqual({
      badRequest: { code: 400, message: 'The requested availability zone is not available' },
    });
  });

  it("bills a project's launched servers over a period, paged at 2.40 until a report is empty, as Horizon reads it", async () => {
    const usageOf = (project: string, query: string, token = alice.token) =>
      harness.request('GET', `/v2.1/os-simple-tenant-usage/${project}?${query}`, {
        token,
        microversion: '2.40',
      });
    const period = 'start=2020-01-01T00:00:00&end=2100-01-01T00:00:00';
    const bob = await harness.member('usage-bob', 'usage-bob');
    const never = await boot(bob.token, 'usage-never-launched');
    const first = await boot(bob.token, 'usage-1');
    await makeActive(harness, first, 'hv-a');
    const second = await boot(bob.token, 'usage-2');
    await makeActive(harness, second, 'hv-a');
    expect((await harness.request('DELETE', `/v2.1/servers/${second}`, { token: bob.token })).status).toBe(
      204,
    );
    await deleted(harness, second, 'hv-a');

    const whole = await usageOf(bob.projectId, period, bob.token);
    expect(whole.status).toBe(200);
    const usage = (whole.body as { tenant_usage: Json }).tenant_usage;
    const lines = usage['server_usages'] as Json[];
    expect(lines.map((line) => line['instance_id'])).toEqual([first, second]);
    expect(lines.map((line) => line['instance_id'])).not.toContain(never);
    expect(lines[0]).toMatchObject({
      name: 'usage-1',
      state: 'active',
      ended_at: null,
      vcpus: 1,
      tenant_id: bob.projectId,
    });
    expect(lines[1]).toMatchObject({ name: 'usage-2', state: 'terminated' });
    expect(String(lines[1]?.['ended_at'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(usage['total_hours']).toBeGreaterThan(0);
    expect(usage['total_vcpus_usage']).toBeCloseTo(Number(usage['total_hours']), 9);
    expect(usage['start']).toBe('2020-01-01T00:00:00.000000');

    const page1 = await usageOf(bob.projectId, `${period}&limit=1`, bob.token);
    expect(((page1.body as { tenant_usage: Json }).tenant_usage['server_usages'] as Json[]).length).toBe(1);
    const next = (page1.body as { tenant_usage_links: { rel: string; href: string }[] }).tenant_usage_links;
    expect(next[0]?.href).toContain(`marker=${first}`);
    const page2 = await usageOf(bob.projectId, `${period}&limit=1&marker=${first}`, bob.token);
    expect(
      ((page2.body as { tenant_usage: Json }).tenant_usage['server_usages'] as Json[])[0]?.['instance_id'],
    ).toBe(second);
    expect((await usageOf(bob.projectId, `${period}&marker=${second}`, bob.token)).body).toEqual({
      tenant_usage: {},
    });

    // Another project's usage is the admin's to read; the list of every project's is too.
    expect((await usageOf(bob.projectId, period)).status).toBe(403);
    expect((await usageOf(bob.projectId, period, admin)).status).toBe(200);
    const all = await harness.request('GET', `/v2.1/os-simple-tenant-usage?${period}&detailed=1`, {
      token: admin,
    });
    expect(
      (all.body as { tenant_usages: Json[] }).tenant_usages.map((entry) => entry['tenant_id']),
    ).toContain(bob.projectId);
    expect(
      (await harness.request('GET', `/v2.1/os-simple-tenant-usage?${period}`, { token: bob.token })).status,
    ).toBe(403);

    expect((await usageOf(bob.projectId, 'start=2026-13-01T00:00:00', bob.token)).body).toEqual({
      badRequest: { code: 400, message: 'Invalid datetime string: Datetime is in invalid format' },
    });
    expect(
      (await usageOf(bob.projectId, 'start=2030-01-01T00:00:00&end=2029-01-01T00:00:00', bob.token)).status,
    ).toBe(400);
    expect((await usageOf(bob.projectId, `${period}&marker=${never}`, bob.token)).status).toBe(400);
  });

  it('answers what the dashboard asks of a cloud without block storage or SPICE: no volumes, refused consoles, no metadefs', async () => {
    const id = await boot(alice.token, 'dashboard-1');
    const volumes = `/v2.1/servers/${id}/os-volume_attachments`;
    expect((await harness.request('GET', volumes, { token: alice.token })).body).toEqual({
      volumeAttachments: [],
    });
    const bob = await harness.member('dash-bob', 'dash-bob');
    expect((await harness.request('GET', volumes, { token: bob.token })).status).toBe(404);

    const spice = { 'os-getSPICEConsole': { type: 'spice-html5' } };
    const action = (body: Json, microversion?: string) =>
      harness.request('POST', `/v2.1/servers/${id}/action`, {
        token: alice.token,
        body,
        ...(microversion ? { microversion } : {}),
      });
    expect((await action(spice)).status).toBe(409);
    await makeActive(harness, id, 'hv-a');
    expect((await action(spice)).body).toEqual({
      badRequest: { code: 400, message: 'Unavailable console type spice-html5.' },
    });
    expect((await action({ 'os-getSerialConsole': { type: 'serial' } })).status).toBe(400);
    expect((await action({ 'os-getRDPConsole': { type: 'rdp-html5' } })).status).toBe(400);
    expect((await action(spice, '2.6')).status).toBe(404);

    const schema = await harness.request('GET', '/image/v2/schemas/metadefs/namespace', {
      token: alice.token,
    });
    expect((schema.body as Json)['name']).toBe('namespace');
    const query = 'resource_types=OS%3A%3ANova%3A%3AFlavor&limit=1000&sort_key=namespace&sort_dir=asc';
    const namespaces = await harness.request('GET', `/image/v2/metadefs/namespaces?${query}`, {
      token: alice.token,
    });
    expect(namespaces.body).toMatchObject({ namespaces: [], schema: '/v2/schemas/metadefs/namespaces' });
    expect(
      (await harness.request('GET', '/image/v2/metadefs/namespaces?sort_dir=up', { token: alice.token }))
        .status,
    ).toBe(400);
  });
});
