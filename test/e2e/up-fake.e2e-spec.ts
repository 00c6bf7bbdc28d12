/**
 * `npm run up -- --driver fake --hosts 3`, as a benchmark author runs it: the whole system on three
 * simulated hosts, which the real `openstack` client lists as hypervisors of type `fake` and boots a
 * server on; an operator onboards a tenant with the same client and its user boots in its own project;
 * OpenStack's Tempest runs the interop guideline's identity and image tests against it;
 * the system refuses to change driver or host count while it is up; `down --purge` stops
 * every process it started and removes the state. Its own state folder and free ports, so a system
 * the user has up is left alone. Needs a build (dist/); no rig, so no host users.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alive, envOf, nimbusCommand } from '../support/local-up.js';
import { OpenStackCli, bootNano } from '../support/openstack-cli.js';

const workDir = mkdtempSync(join(tmpdir(), 'nimbus-up-fake-'));
const stateDir = join(workDir, 'state');

function nimbus(command: 'up' | 'down', ...args: string[]): Promise<string> {
  return nimbusCommand(stateDir, command, args, 180_000);
}

/** What `up` says when it refuses: its exit status and standard error. */
async function refusal(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await nimbus('up', ...args);
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
  throw new Error(`up ${args.join(' ')} succeeded`);
}

let cli: OpenStackCli | undefined;

let pids: string[] = [];

afterAll(async () => {
  cli?.close();
  if (existsSync(stateDir)) await nimbus('down', '--purge').catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}, 120_000);

it('comes up on simulated hosts without a rig or a console proxy', async () => {
  const stdout = await nimbus('up', '--driver', 'fake', '--hosts', '3');

  const parts = [...stdout.matchAll(/^ {2}(\S+)\s+started\s+(.*)$/gm)].map((match) => match[1]);
  expect(parts).toEqual(['event-store', 'nats', 'boot-image', 'api', 'scheduler', 'compute']);
  pids = [...stdout.matchAll(/^ {2}\S+\s+started\s+pid (\d+)/gm)].map((match) => match[1]!);
  expect(pids).toHaveLength(5);
  expect(stdout).toContain('openstack hypervisor list');
  const env = envOf(join(stateDir, 'env'));
  expect(env['CONSOLE_URL']).toBeUndefined();
  const password = (
    JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as { adminPassword: string }
  ).adminPassword;
  cli = new OpenStackCli(env['API_URL']!, { user: 'admin', password, project: 'admin' });
}, 180_000);

it('shows the simulated hosts to the openstack client as fake hypervisors, and boots on one', async () => {
  const hypervisors = await cli!.json<Record<string, string>[]>('hypervisor', 'list', '--long');
  expect(hypervisors.map((row) => row['Hypervisor Hostname']).sort()).toEqual([
    'sim-0001',
    'sim-0002',
    'sim-0003',
  ]);
  expect(hypervisors.map((row) => row['Hypervisor Type'])).toEqual(['fake', 'fake', 'fake']);

  const server = await bootNano(cli!, 'on-fake');
  expect(server['status']).toBe('ACTIVE');
  expect(server['OS-EXT-SRV-ATTR:host']).toMatch(/^sim-000[1-3]$/);
}, 180_000);

it('onboards a tenant with the openstack client: project, user, role, application credential; the user boots in its project only', async () => {
  const project = await cli!.json('project', 'create', '--description', 'a tenant', 'tenant-one');
  const user = await cli!.json(
    'user',
    'create',
    '--project',
    'tenant-one',
    '--password',
    'tenant-pw-1',
    'tess',
  );
  expect(user).toMatchObject({ name: 'tess', default_project_id: project['id'] });
  const added = await cli!.openstack('role', 'add', '--project', 'tenant-one', '--user', 'tess', 'member');
  expect(added.status).toBe(0);
  const assignments = await cli!.json<Record<string, string>[]>(
    'role',
    'assignment',
    'list',
    '--project',
    'tenant-one',
    '--names',
  );
  expect(assignments).toEqual([
    expect.objectContaining({ Role: 'member', User: 'tess@Default', Project: 'tenant-one@Default' }),
  ]);

  const tess = new OpenStackCli(envOf(join(stateDir, 'env'))['API_URL']!, {
    user: 'tess',
    password: 'tenant-pw-1',
    project: 'tenant-one',
  });
  try {
    const server = await bootNano(tess, 'tenant-vm');
    expect(server['status']).toBe('ACTIVE');
    expect((await tess.json<Record<string, string>[]>('server', 'list')).map((row) => row['Name'])).toEqual([
      'tenant-vm',
    ]);
    const all = await cli!.json<Record<string, string>[]>('server', 'list', '--all-projects');
    expect(all.map((row) => row['Name']).sort()).toEqual(['on-fake', 'tenant-vm']);

    // Automation signs in with an application credential instead of the password, until it is deleted.
    const credential = await tess.json('application', 'credential', 'create', 'tess-ci');
    const automation = new OpenStackCli(envOf(join(stateDir, 'env'))['API_URL']!, {
      applicationCredentialId: credential['id'] as string,
      secret: credential['secret'] as string,
    });
    try {
      const listed = await automation.json<Record<string, string>[]>('server', 'list');
      expect(listed.map((row) => row['Name'])).toEqual(['tenant-vm']);
      expect((await tess.openstack('application', 'credential', 'delete', 'tess-ci')).status).toBe(0);
      const gone = await automation.openstack('server', 'list');
      expect(gone.status).not.toBe(0);
      expect(gone.stderr).toContain('HTTP 401');
    } finally {
      automation.close();
    }

    expect(
      (await cli!.openstack('role', 'remove', '--project', 'tenant-one', '--user', 'tess', 'member')).status,
    ).toBe(0);
    const refused = await tess.openstack('server', 'list');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('HTTP 401');
  } finally {
    tess.close();
  }
}, 180_000);

it("passes OpenStack's own interop tests of the identity and image capabilities (Tempest)", async () => {
  const run = promisify(execFile);
  const { stdout } = await run(
    process.execPath,
    ['dist/deploy/interop/main.js', '--state-dir', stateDir, '--filter', '^(identity|images)-'],
    { timeout: 600_000, maxBuffer: 16 * 2 ** 20 },
  );
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  expect(summary).toEqual({ interopPassed: 28, interopFailed: 0, interopSkipped: 0, interopTotal: 28 });
  expect(stdout).toContain('TokensV3Test.test_validate_token');
}, 600_000);

it('refuses to change the driver or the host count while it is up, and changes nothing', async () => {
  const driver = await refusal('--driver', 'libvirt');
  expect(driver.code).toBe(1);
  expect(driver.stderr).toContain('Nimbus is up here with --driver fake --hosts 3; run `npm run down` first');
  const hosts = await refusal('--driver', 'fake', '--hosts', '4');
  expect(hosts.stderr).toContain('--driver fake --hosts 3');
  const bad = await refusal('--driver', 'fake', '--hosts', '1001');
  expect(bad.stderr).toContain('--hosts must be a whole number from 1 to 1000 with the fake driver');
  expect(pids.filter(alive)).toEqual(pids);
}, 120_000);

it('stops everything it started with down --purge', async () => {
  expect(await nimbus('down', '--purge')).toContain('purged');
  expect(pids.filter(alive)).toEqual([]);
  expect(existsSync(stateDir)).toBe(false);
}, 120_000);
