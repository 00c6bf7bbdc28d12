import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { claim, makeActive, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

describe('compute: consoles, key pairs, server groups, flavors and hosts', () => {
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
});
