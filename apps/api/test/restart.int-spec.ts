import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, startHarness } from './support/api-harness.js';
import { makeActive } from './support/simulate.js';

type Json = Record<string, unknown>;

/**
 * What survives a restart: the server projection resumes from the checkpoint stored beside its rows, and
 * bootstrap and seeds find what they made and append nothing the second time.
 */
describe('restarting the API', () => {
  let harness: Harness;
  const seed = join(tmpdir(), `nimbus-seed-${process.pid}.img`);
  const seedBytes = Buffer.from('the boot sector of the seeded image');

  beforeAll(async () => {
    writeFileSync(seed, seedBytes);
    harness = await startHarness({
      env: { NIMBUS_API_SEED_IMAGE: seed, NIMBUS_API_SEED_IMAGE_NAME: 'nimbus-boot' },
    });
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
    rmSync(seed, { force: true });
  });

  it('seeds the configured image as a public, active image of the admin project', async () => {
    const member = await harness.member('restart-member', 'restart-member');
    const images = await harness.request('GET', '/image/v2/images?name=nimbus-boot', { token: member.token });
    const [image] = (images.body as { images: Json[] }).images;
    expect(image).toMatchObject({
      visibility: 'public',
      status: 'active',
      size: seedBytes.length,
      checksum: createHash('md5').update(seedBytes).digest('hex'),
    });
  });

  it('appends nothing at a restart, resumes the projection from its checkpoint, and keeps tokens valid', async () => {
    const admin = await harness.adminToken();
    const image = (
      (await harness.request('GET', '/image/v2/images?name=nimbus-boot', { token: admin })).body as {
        images: Json[];
      }
    ).images[0]!;
    const created = await harness.request('POST', '/v2.1/servers', {
      token: admin,
      microversion: '2.37',
      body: { server: { name: 'survivor', imageRef: image['id'], flavorRef: '0', networks: 'none' } },
    });
    const id = String((created.body as { server: Json }).server['id']);
    await makeActive(harness, id, 'hv-r');
    const before = await harness.headPosition();

    await harness.restartApi();

    expect(await harness.headPosition()).toBe(before);
    const database = new Database(join(harness.dataDir, 'servers.sqlite'), { readonly: true });
    try {
      const checkpoint = database.prepare('SELECT commit_position FROM checkpoints').pluck().get() as string;
      expect(BigInt(checkpoint)).toBe(before);
    } finally {
      database.close();
    }
    const listed = await harness.request('GET', '/v2.1/servers/detail', { token: admin });
    expect(
      (listed.body as { servers: Json[] }).servers.map((server) => [server['id'], server['status']]),
    ).toEqual([[id, 'ACTIVE']]);
    const images = await harness.request('GET', '/image/v2/images', { token: admin });
    expect(
      (images.body as { images: Json[] }).images.filter((entry) => entry['name'] === 'nimbus-boot'),
    ).toHaveLength(1);
  });
});
