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
});
