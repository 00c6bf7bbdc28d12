import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';

type Json = Record<string, unknown>;
const octets = { 'Content-Type': 'application/octet-stream' };

describe('images (Glance v2 subset)', () => {
  let harness: Harness;
  let admin: string;
  let alice: Member;
  let bob: Member;

  const createImage = (token: string, body: Json) =>
    harness.request('POST', '/image/v2/images', { token, body });
  const upload = (token: string, id: string, data: Buffer) =>
    harness.request('PUT', `/image/v2/images/${id}/file`, { token, raw: data, headers: octets });

  beforeAll(async () => {
    harness = await startHarness({ env: { NIMBUS_API_MAX_IMAGE_BYTES: '4096' } });
    admin = await harness.adminToken();
    alice = await harness.member('images-alice', 'images-alice');
    bob = await harness.member('images-bob', 'images-bob');
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('answers version discovery under its prefix with 300 and links to /v2/', async () => {
    const versions = await harness.request('GET', '/image');
    expect(versions.status).toBe(300);
    const list = (versions.body as { versions: { id: string; status: string; links: { href: string }[] }[] })
      .versions;
    expect(list[0]).toEqual({
      id: 'v2.15',
      status: 'CURRENT',
      links: [{ rel: 'self', href: `${harness.url}/image/v2/` }],
    });
  });

  it('creates a queued image, stores uploaded bytes with their checksums, and serves them back', async () => {
    const created = await createImage(alice.token, {
      name: 'cirros',
      disk_format: 'qcow2',
      container_format: 'bare',
      'owner_specified.openstack.md5': '',
    });
    expect(created.status).toBe(201);
    const image = created.body as Json;
    expect(image).toMatchObject({
      name: 'cirros',
      status: 'queued',
      visibility: 'shared',
      owner: alice.projectId,
      size: null,
      checksum: null,
      os_hash_algo: null,
      'owner_specified.openstack.md5': '',
      self: `/v2/images/${String(image['id'])}`,
      file: `/v2/images/${String(image['id'])}/file`,
      schema: '/v2/schemas/image',
    });
    const data = Buffer.from('a tiny qcow2 that is not really one');
    const stored = await upload(alice.token, String(image['id']), data);
    expect(stored.status).toBe(204);
    const shown = (
      await harness.request('GET', `/image/v2/images/${String(image['id'])}`, { token: alice.token })
    ).body as Json;
    expect(shown).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: createHash('md5').update(data).digest('hex'),
      os_hash_algo: 'sha512',
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
    const downloaded = await fetch(`${harness.url}/image/v2/images/${String(image['id'])}/file`, {
      headers: { 'X-Auth-Token': alice.token },
    });
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-md5')).toBe(shown['checksum']);
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(data);
    const again = await upload(alice.token, String(image['id']), data);
    expect(again.status).toBe(409);
  });

  it("hides a project's images from other projects, shows public ones, and lets a service read any", async () => {
    const own = await createImage(alice.token, { name: 'alice-private', visibility: 'private' });
    const ownId = String((own.body as Json)['id']);
    await upload(alice.token, ownId, Buffer.from('secret bytes'));
    expect((await harness.request('GET', `/image/v2/images/${ownId}`, { token: bob.token })).status).toBe(
      404,
    );
    expect(
      (await harness.request('GET', `/image/v2/images/${ownId}/file`, { token: bob.token })).status,
    ).toBe(404);
    const listed = await harness.request('GET', '/image/v2/images', { token: bob.token });
    expect((listed.body as { images: Json[] }).images.map((image) => image['id'])).not.toContain(ownId);

    const service = await harness.login('nimbus-compute', 'service-secret-for-tests', 'service');
    const fetched = await fetch(`${harness.url}/image/v2/images/${ownId}/file`, {
      headers: { 'X-Auth-Token': service },
    });
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe('secret bytes');
    // The service fills and drops servers' snapshots only: any other image is not its to change.
    const queued = await createImage(alice.token, { name: 'alice-queued' });
    const queuedId = String((queued.body as Json)['id']);
    expect((await upload(service, queuedId, Buffer.from('x'))).status).toBe(403);
    expect((await harness.request('DELETE', `/image/v2/images/${ownId}`, { token: service })).status).toBe(
      403,
    );
    const snapshot = await createImage(alice.token, { name: 'alice-snap', instance_uuid: 'some-server' });
    const snapshotId = String((snapshot.body as Json)['id']);
    expect((await upload(service, snapshotId, Buffer.from('disk'))).status).toBe(204);
    expect(
      (await harness.request('DELETE', `/image/v2/images/${snapshotId}`, { token: service })).status,
    ).toBe(403);

    const shared = await createImage(admin, { name: 'everyone', visibility: 'public' });
    const sharedId = String((shared.body as Json)['id']);
    expect((await harness.request('GET', `/image/v2/images/${sharedId}`, { token: bob.token })).status).toBe(
      200,
    );
    const refused = await harness.request('DELETE', `/image/v2/images/${sharedId}`, { token: bob.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      forbidden: { code: 403, message: 'You are not permitted to delete this image.' },
    });
  });

  it('refuses a public image from a member and a read-only attribute, as Glance does', async () => {
    const publicImage = await createImage(alice.token, { name: 'mine', visibility: 'public' });
    expect(publicImage.status).toBe(403);
    const readOnly = await createImage(alice.token, { name: 'x', status: 'active' });
    expect(readOnly.body).toEqual({ forbidden: { code: 403, message: "Attribute 'status' is read-only." } });
  });

  it('filters by name and pages with a next link', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) await createImage(bob.token, { name });
    const named = await harness.request('GET', '/image/v2/images?name=page-2', { token: bob.token });
    expect((named.body as { images: Json[] }).images.map((image) => image['name'])).toEqual(['page-2']);
    expect((named.body as Json)['first']).toBe('/v2/images?name=page-2');
    const first = await harness.request('GET', '/image/v2/images?limit=2', { token: bob.token });
    const page = first.body as { images: Json[]; next: string };
    expect(page.images).toHaveLength(2);
    const rest = await harness.request('GET', `/image${page.next}`, { token: bob.token });
    expect((rest.body as { images: Json[] }).images.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses an upload beyond the size limit and puts the image back to queued', async () => {
    const created = await createImage(alice.token, { name: 'too-big' });
    const id = String((created.body as Json)['id']);
    const refused = await upload(alice.token, id, Buffer.alloc(5000, 1));
    expect(refused.status).toBe(413);
    expect(
      (await harness.request('GET', `/image/v2/images/${id}`, { token: alice.token })).body,
    ).toMatchObject({ status: 'queued' });
    expect((await upload(alice.token, id, Buffer.alloc(100, 1))).status).toBe(204);
  });

  it('deletes an image and its data', async () => {
    const created = await createImage(alice.token, { name: 'short-lived' });
    const id = String((created.body as Json)['id']);
    await upload(alice.token, id, Buffer.from('bytes'));
    expect(existsSync(join(harness.dataDir, 'images', id))).toBe(true);
    expect((await harness.request('DELETE', `/image/v2/images/${id}`, { token: alice.token })).status).toBe(
      204,
    );
    expect((await harness.request('GET', `/image/v2/images/${id}`, { token: alice.token })).status).toBe(404);
    expect(existsSync(join(harness.dataDir, 'images', id))).toBe(false);
  });

  it('refuses image data that is not octet-stream', async () => {
    const created = await createImage(alice.token, { name: 'typed' });
    const id = String((created.body as Json)['id']);
    const json = await harness.request('PUT', `/image/v2/images/${id}/file`, {
      token: alice.token,
      body: { not: 'data' },
    });
    expect(json.status).toBe(415);
  });

  it("updates an image with a JSON patch in either of Glance's forms, refusing what Glance refuses", async () => {
    const created = await createImage(alice.token, { name: 'draft', disk_format: 'raw', os_distro: 'x' });
    const id = String((created.body as Json)['id']);
    const patch = (token: string, body: unknown, type = 'application/openstack-images-v2.1-json-patch') =>
      harness.request('PATCH', `/image/v2/images/${id}`, {
        token,
        raw: Buffer.from(JSON.stringify(body)),
        headers: { 'Content-Type': type },
      });

    const updated = await patch(alice.token, [
      { op: 'replace', path: '/name', value: 'final' },
      { op: 'add', path: '/min_ram', value: 256 },
      { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
      { op: 'remove', path: '/os_distro' },
      { op: 'replace', path: '/tags', value: ['a', 'b', 'a'] },
    ]);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'final',
      min_ram: 256,
      hw_disk_bus: 'virtio',
      tags: ['a', 'b'],
    });
    expect(updated.body).not.toHaveProperty('os_distro');
    const older = await patch(
      alice.token,
      [{ replace: '/name', value: 'older-form' }],
      'application/openstack-images-v2.0-json-patch',
    );
    expect((older.body as Json)['name']).toBe('older-form');

    const before = await harness.headPosition();
    for (const [body, status] of [
      [[{ op: 'replace', path: '/status', value: 'active' }], 403],
      [[{ op: 'replace', path: '/visibility', value: 'public' }], 403],
      [[{ op: 'remove', path: '/name' }], 403],
      [[{ op: 'remove', path: '/absent' }], 409],
      [[{ op: 'replace', path: '/absent', value: 'x' }], 409],
      [[{ op: 'move', path: '/name' }], 400],
      [[{ op: 'replace', path: '/min_ram', value: -1 }], 400],
      [[{ op: 'add', path: '/a/b', value: 'x' }], 400],
      [{ op: 'add', path: '/name', value: 'x' }, 400],
    ] as const)
      expect([JSON.stringify(body), (await patch(alice.token, body)).status]).toEqual([
        JSON.stringify(body),
        status,
      ]);
    const asJson = await harness.request('PATCH', `/image/v2/images/${id}`, { token: alice.token, body: [] });
    expect(asJson.status).toBe(415);
    expect((await patch(bob.token, [{ op: 'replace', path: '/name', value: 'x' }])).status).toBe(404);
    expect(await harness.headPosition()).toBe(before);
  });

  it('adds and removes tags one at a time, and filters the list by tag and by attributes', async () => {
    const created = await createImage(alice.token, {
      name: 'tagged',
      disk_format: 'iso',
      container_format: 'bare',
    });
    const id = String((created.body as Json)['id']);
    const tag = (method: string, name: string) =>
      harness.request(method, `/image/v2/images/${id}/tags/${name}`, { token: alice.token });
    expect((await tag('PUT', 'gold')).status).toBe(204);
    expect((await tag('PUT', 'gold')).status).toBe(204);
    const list = async (query: string): Promise<string[]> =>
      (
        (await harness.request('GET', `/image/v2/images?${query}`, { token: alice.token })).body as {
          images: Json[];
        }
      ).images.map((image) => String(image['id']));
    expect(await list('tag=gold')).toEqual([id]);
    expect(await list('disk_format=iso&container_format=bare')).toEqual([id]);
    expect(await list('disk_format=iso&container_format=ovf')).toEqual([]);
    expect(
      (await harness.request('GET', '/image/v2/images?size_min=abc', { token: alice.token })).status,
    ).toBe(400);
    expect((await tag('DELETE', 'gold')).status).toBe(204);
    expect((await tag('DELETE', 'gold')).status).toBe(404);
    expect(await list('tag=gold')).toEqual([]);
  });

  it('publishes the image schemas, and finds no image under a path with a trailing slash', async () => {
    const image = await harness.request('GET', '/image/v2/schemas/image', { token: alice.token });
    expect(image.body).toMatchObject({
      name: 'image',
      properties: { name: expect.any(Object), status: expect.objectContaining({ readOnly: true }) },
    });
    const images = await harness.request('GET', '/image/v2/schemas/images', { token: alice.token });
    expect((images.body as Json)['name']).toBe('images');
    expect((await harness.request('GET', '/image/v2/images/', { token: alice.token })).status).toBe(404);
  });
});
