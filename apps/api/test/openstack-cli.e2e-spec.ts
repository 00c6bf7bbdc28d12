import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ADMIN_PASSWORD, type Harness, startHarness } from './support/api-harness.js';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';

/**
 * The real clients against the API: Debian's python-openstackclient (with openstacksdk and novaclient
 * underneath) configured only by OS_AUTH_URL=<api>/v3, as a user would configure it for Nova.
 */
describe('the openstack CLI', () => {
  let harness: Harness;
  let env: NodeJS.ProcessEnv;

  const openstack = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await run(OPENSTACK, [...args, '-f', 'json'], { env, timeout: 30_000 });
    return JSON.parse(stdout) as unknown;
  };

  beforeAll(async () => {
    harness = await startHarness();
    env = {
      PATH: '/usr/bin:/bin',
      HOME: harness.dataDir,
      OS_AUTH_URL: `${harness.url}/v3`,
      OS_IDENTITY_API_VERSION: '3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: ADMIN_PASSWORD,
      OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
    };
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('issues a token', async () => {
    const token = (await openstack('token', 'issue')) as Record<string, string>;
    expect(Object.keys(token).sort()).toEqual(['expires', 'id', 'project_id', 'user_id']);
    expect(token['id']).toMatch(/^nmb1\./);
  }, 30_000);

  it('lists the seeded flavors', async () => {
    const flavors = (await openstack('flavor', 'list')) as Record<string, unknown>[];
    expect(
      flavors.map((flavor) => [flavor['ID'], flavor['Name'], flavor['RAM'], flavor['Disk'], flavor['VCPUs']]),
    ).toEqual([
      ['0', 'm1.nano', 64, 0, 1],
      ['1', 'm1.tiny', 512, 1, 1],
      ['2', 'm1.small', 2048, 20, 1],
    ]);
  }, 30_000);

  it('creates an image from a file, lists it, boots a server from it, lists, shows and deletes the server', async () => {
    const file = join(harness.dataDir, 'boot.img');
    writeFileSync(file, Buffer.alloc(64 * 1024, 7));
    const image = (await openstack(
      'image',
      'create',
      '--file',
      file,
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      'cli-image',
    )) as Record<string, unknown>;
    expect(image['name']).toBe('cli-image');
    const images = (await openstack('image', 'list')) as Record<string, unknown>[];
    expect(images).toEqual([{ ID: image['id'], Name: 'cli-image', Status: 'active' }]);

    const keypair = (await openstack(
      'keypair',
      'create',
      '--private-key',
      join(harness.dataDir, 'cli-key.pem'),
      'cli-key',
    )) as Record<string, unknown>;
    expect(keypair).toMatchObject({
      name: 'cli-key',
      type: 'ssh',
      fingerprint: expect.stringMatching(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/),
    });

    const server = (await openstack(
      'server',
      'create',
      '--os-compute-api-version',
      '2.37',
      '--flavor',
      'm1.nano',
      '--image',
      'cli-image',
      '--nic',
      'none',
      '--key-name',
      'cli-key',
      'cli-server',
    )) as Record<string, unknown>;
    expect(server).toMatchObject({
      name: 'cli-server',
      status: 'BUILD',
      key_name: 'cli-key',
      flavor: 'm1.nano (0)',
    });
    expect(server['adminPass']).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(server['image']).toBe(`cli-image (${String(image['id'])})`);

    const servers = (await openstack('server', 'list')) as Record<string, unknown>[];
    expect(servers).toEqual([
      {
        ID: server['id'],
        Name: 'cli-server',
        Status: 'BUILD',
        Networks: {},
        Image: 'cli-image',
        Flavor: 'm1.nano',
      },
    ]);

    const shown = (await openstack('server', 'show', 'cli-server')) as Record<string, unknown>;
    expect(shown).toMatchObject({
      id: server['id'],
      status: 'BUILD',
      'OS-EXT-STS:vm_state': 'building',
      'OS-EXT-STS:task_state': 'scheduling',
    });

    await run(OPENSTACK, ['server', 'delete', 'cli-server'], { env, timeout: 30_000 });
    const after = (await openstack('server', 'show', String(server['id']))) as Record<string, unknown>;
    expect(after['OS-EXT-STS:task_state']).toBe('deleting');
  }, 60_000);
});
