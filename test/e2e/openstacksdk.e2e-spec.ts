/**
 * openstacksdk (Debian's python3-openstacksdk) against the whole system: a short script of the
 * calls automation makes — find a flavor and an image, boot and wait, read back, delete and wait.
 */
import { join } from 'node:path';

import { OpenStackCli } from '../support/openstack-cli.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 1, api: true });
}, 180_000);

afterAll(async () => {
  await system.stop();
}, 120_000);

it('boots, reads back and deletes a server through openstacksdk', async () => {
  const sdk = new OpenStackCli(system.apiUrl!, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
  sdk.env.OS_COMPUTE_API_VERSION = '2.37';
  const result = await sdk
    .python(join(process.cwd(), 'test/e2e/python/sdk_flow.py'), 'nimbus-boot')
    .finally(() => sdk.close());
  expect(result.stderr).not.toMatch(/Traceback/);
  expect(result.status).toBe(0);
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(summary).toMatchObject({
    flavor: 'm1.nano',
    image: 'nimbus-boot',
    status: 'ACTIVE',
    host: system.rig!.hosts[0]!.name,
    listed: ['sdk-one'],
    remaining: [],
  });
}, 300_000);
