/**
 * What a user sets on a server besides its name: metadata (list, show, merge, replace, set and delete
 * one item, within the metadata_items quota), access addresses (given at create or update, IPv6 kept in
 * canonical form), and the lock, which refuses changes from anyone but an admin until it is lifted, with
 * the reason shown from 2.73. Each refusal appends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { makeActive, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

describe('server metadata, access addresses and locks', () => {
  let harness: Harness;
  let admin: string;
  let ann: Member;
  let imageId: string;

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    ann = await harness.member('attributes-a', 'attributes-ann');
    const image = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'boot', visibility: 'public', disk_format: 'qcow2', container_format: 'bare' },
    });
    imageId = String((image.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${imageId}/file`, {
      token: admin,
      raw: Buffer.from('boot'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    await registerHost(harness, 'hv-attr');
    harness.liveness.up.add('hv-attr');
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  async function boot(name: string, extra: Json = {}): Promise<string> {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: ann.token,
      microversion: '2.37',
      body: { server: { name, imageRef: imageId, flavorRef: '0', networks: 'none', ...extra } },
    });
    expect(created.status).toBe(202);
    const id = String((created.body as { server: Json }).server['id']);
    await makeActive(harness, id, 'hv-attr');
    return id;
  }

  const as = (token: string, method: string, path: string, body?: unknown, microversion?: string) =>
    harness.request(method, path, {
      token,
      ...(body === undefined ? {} : { body }),
      ...(microversion === undefined ? {} : { microversion }),
    });

  it('lists, merges, replaces, sets and deletes metadata as Nova does', async () => {
    const id = await boot('meta-1', { metadata: { role: 'web' } });
    const path = `/v2.1/servers/${id}/metadata`;
    expect((await as(ann.token, 'GET', path)).body).toEqual({ metadata: { role: 'web' } });

    const merged = await as(ann.token, 'POST', path, { metadata: { tier: 'front', role: 'api' } });
    expect(merged.status).toBe(200);
    expect(merged.body).toEqual({ metadata: { role: 'api', tier: 'front' } });

    const item = await as(ann.token, 'PUT', `${path}/zone`, { meta: { zone: 'a' } });
    expect(item.body).toEqual({ meta: { zone: 'a' } });
    expect((await as(ann.token, 'GET', `${path}/zone`)).body).toEqual({ meta: { zone: 'a' } });

    const replaced = await as(ann.token, 'PUT', path, { metadata: { only: 'this' } });
    expect(replaced.body).toEqual({ metadata: { only: 'this' } });
    const shown = await as(ann.token, 'GET', `/v2.1/servers/${id}`);
    expect((shown.body as { server: Json }).server['metadata']).toEqual({ only: 'this' });

    expect((await as(ann.token, 'DELETE', `${path}/only`)).status).toBe(204);
    expect((await as(ann.token, 'GET', path)).body).toEqual({ metadata: {} });

    const before = await harness.headPosition();
    const missing = await as(ann.token, 'GET', `${path}/only`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain('Metadata item was not found');
    expect((await as(ann.token, 'DELETE', `${path}/only`)).status).toBe(404);
    const mismatch = await as(ann.token, 'PUT', `${path}/a`, { meta: { b: 'x' } });
    expect(mismatch.status).toBe(400);
    expect(JSON.stringify(mismatch.body)).toContain('Request body and URI mismatch');
    expect((await as(ann.token, 'PUT', `${path}/a`, { meta: { a: 'x', b: 'y' } })).status).toBe(400);
    expect((await as(ann.token, 'POST', path, { metadata: { 'bad/key': 'x' } })).status).toBe(400);
    const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, index) => [`k${index}`, 'v']));
    const overQuota = await as(ann.token, 'POST', path, { metadata: tooMany });
    expect(overQuota.status).toBe(403);
    expect(JSON.stringify(overQuota.body)).toContain('Quota exceeded for metadata_items');
    expect(await harness.headPosition()).toBe(before);

    const other = await harness.member('attributes-b', 'attributes-bob');
    expect((await as(other.token, 'GET', path)).status).toBe(404);
  });

  it('records access addresses at create and update, IPv6 in canonical form', async () => {
    const id = await boot('access-1', { accessIPv4: '192.0.2.7' });
    const server = async (): Promise<Json> =>
      ((await as(ann.token, 'GET', `/v2.1/servers/${id}`)).body as { server: Json }).server;
    expect(await server()).toMatchObject({ accessIPv4: '192.0.2.7', accessIPv6: '' });
    const updated = await as(ann.token, 'PUT', `/v2.1/servers/${id}`, {
      server: { accessIPv6: '0000:0000:0000:0000:0000:babe:220.12.22.2' },
    });
    expect((updated.body as { server: Json }).server).toMatchObject({
      accessIPv4: '192.0.2.7',
      accessIPv6: '::babe:dc0c:1602',
    });
    await as(ann.token, 'PUT', `/v2.1/servers/${id}`, { server: { accessIPv4: '198.51.100.1' } });
    expect(await server()).toMatchObject({ accessIPv4: '198.51.100.1', accessIPv6: '::babe:dc0c:1602' });
    const bad = await as(ann.token, 'PUT', `/v2.1/servers/${id}`, { server: { accessIPv4: '300.1.1.1' } });
    expect(bad.status).toBe(400);
  });

  it('refuses changes to a locked server except from an admin; an admin lock takes an admin to lift', async () => {
    const id = await boot('lock-1');
    const action = (token: string, body: Json, microversion?: string) =>
      as(token, 'POST', `/v2.1/servers/${id}/action`, body, microversion);
    const locked = async (): Promise<Json> =>
      ((await as(ann.token, 'GET', `/v2.1/servers/${id}`, undefined, '2.73')).body as { server: Json })
        .server;

    expect((await action(ann.token, { lock: { locked_reason: 'maintenance' } }, '2.73')).status).toBe(202);
    expect(await locked()).toMatchObject({ locked: true, locked_reason: 'maintenance' });
    const before = await harness.headPosition();
    const stop = await action(ann.token, { 'os-stop': null });
    expect(stop.status).toBe(409);
    expect(stop.body).toEqual({ conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
    expect((await as(ann.token, 'DELETE', `/v2.1/servers/${id}`)).status).toBe(409);
    expect(
      (await as(ann.token, 'POST', `/v2.1/servers/${id}/metadata`, { metadata: { a: 'b' } })).status,
    ).toBe(409);
    expect(await harness.headPosition()).toBe(before);

    expect((await action(ann.token, { unlock: null })).status).toBe(202);
    expect(await locked()).toMatchObject({ locked: false, locked_reason: null });
    expect((await action(ann.token, { 'os-stop': {} })).status).toBe(202);

    expect((await action(admin, { lock: null })).status).toBe(202);
    const refused = await action(ann.token, { unlock: null });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toContain('unlock_override');
    expect((await action(admin, { unlock: null })).status).toBe(202);
    expect(await locked()).toMatchObject({ locked: false });
  });

  it('echoes the adminPass a create gives, and reads changes-since as ISO 8601 only', async () => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: ann.token,
      microversion: '2.37',
      body: {
        server: { name: 'pw-1', imageRef: imageId, flavorRef: '0', networks: 'none', adminPass: 'chosen-pw' },
      },
    });
    expect((created.body as { server: Json }).server['adminPass']).toBe('chosen-pw');
    const list = (since: string) =>
      as(ann.token, 'GET', `/v2.1/servers?changes-since=${encodeURIComponent(since)}`);
    expect((await list('2011/01/01')).status).toBe(400);
    expect((await list('2011-01-01T00:00:00')).status).toBe(200);
    const future = await list('2999-01-01T00:00:00Z');
    expect((future.body as { servers: Json[] }).servers).toEqual([]);
  });

  it('rebuilds from another image with a new name and metadata, and refuses what Nova refuses', async () => {
    const id = await boot('rebuild-1');
    const other = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'other', visibility: 'public', disk_format: 'qcow2', container_format: 'bare' },
    });
    const otherId = String((other.body as Json)['id']);
    const rebuild = (body: Json, token = ann.token, server = id) =>
      as(token, 'POST', `/v2.1/servers/${server}/action`, { rebuild: body });

    const before = await harness.headPosition();
    expect((await rebuild({ imageRef: otherId })).status).toBe(400); // not active: no data yet
    expect((await rebuild({ imageRef: imageId, unknown: 1 })).status).toBe(400);
    expect((await rebuild({ imageRef: imageId, description: 'x' })).status).toBe(400); // before 2.19
    expect(
      (await rebuild({ imageRef: imageId }, ann.token, '9a0c3a0e-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    expect(await harness.headPosition()).toBe(before);

    await harness.request('PUT', `/image/v2/images/${otherId}/file`, {
      token: admin,
      raw: Buffer.from('other'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    // An image for another architecture cannot run on the server's host (x86_64): refused, nothing appended.
    const arm = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: {
        name: 'arm',
        visibility: 'public',
        disk_format: 'qcow2',
        container_format: 'bare',
        architecture: 'aarch64',
      },
    });
    const armId = String((arm.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${armId}/file`, {
      token: admin,
      raw: Buffer.from('arm'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const beforeArm = await harness.headPosition();
    const unacceptable = await rebuild({ imageRef: armId });
    expect(unacceptable.status).toBe(400);
    expect(JSON.stringify(unacceptable.body)).toContain(`Image ${armId} is unacceptable`);
    expect(await harness.headPosition()).toBe(beforeArm);

    const rebuilt = await rebuild({
      imageRef: otherId,
      name: 'rebuilt',
      metadata: { v: '2' },
      adminPass: 'pw',
    });
    expect(rebuilt.status).toBe(202);
    expect((rebuilt.body as { server: Json }).server).toMatchObject({
      id,
      name: 'rebuilt',
      status: 'REBUILD',
      image: { id: otherId },
      metadata: { v: '2' },
      adminPass: 'pw',
    });
    // A second rebuild while the first is under way is refused.
    expect((await rebuild({ imageRef: imageId })).status).toBe(409);
    const actions = await as(ann.token, 'GET', `/v2.1/servers/${id}/os-instance-actions`);
    expect(
      (actions.body as { instanceActions: { action: string }[] }).instanceActions.map(
        (entry) => entry.action,
      ),
    ).toContain('rebuild');
  });

  it('makes a queued image of a server for its agent to fill, and leaves none behind on a refusal', async () => {
    const id = await boot('image-1');
    const create = (body: Json, microversion?: string) =>
      as(ann.token, 'POST', `/v2.1/servers/${id}/action`, { createImage: body }, microversion);
    const images = async (): Promise<string[]> =>
      ((await as(ann.token, 'GET', '/image/v2/images?name=snap-1')).body as { images: Json[] }).images.map(
        (image) => String(image['id']),
      );

    const bootImage = imageId;
    const made = await create({ name: 'snap-1', metadata: { image_type: 'mine' } });
    expect(made.status).toBe(202);
    const snapshotId = (made.headers.get('location') ?? '').split('/').at(-1) ?? '';
    expect(made.headers.get('location')).toBe(`${harness.url}/image/v2/images/${snapshotId}`);
    const image = (await as(ann.token, 'GET', `/image/v2/images/${snapshotId}`)).body as Json;
    expect(image).toMatchObject({
      name: 'snap-1',
      status: 'queued',
      owner: ann.projectId,
      image_type: 'mine',
      instance_uuid: id,
      base_image_ref: bootImage,
    });
    // One snapshot at a time: the second is refused and makes no image.
    const second = await create({ name: 'snap-1' });
    expect(second.status).toBe(409);
    expect(await images()).toEqual([snapshotId]);
    expect((await create({ name: 'x', metadata: { 'bad key': 'v' } })).status).toBe(400);
    expect((await create({})).status).toBe(400);
  });

  it('answers createImage with image_id in the body from 2.45', async () => {
    const id = await boot('image-2');
    const made = await as(
      ann.token,
      'POST',
      `/v2.1/servers/${id}/action`,
      { createImage: { name: 'snap-2' } },
      '2.45',
    );
    expect(made.status).toBe(202);
    expect(made.headers.get('location')).toBeNull();
    expect((made.body as Json)['image_id']).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });
});
