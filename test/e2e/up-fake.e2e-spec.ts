/**
 * `npm run up -- --driver fake --hosts 3`, as a benchmark author runs it: the whole system on three
 * simulated hosts, which the real `openstack` client lists as hypervisors of type `fake` and boots a
 * server on; the system refuses to change driver or host count while it is up; `down --purge` stops
 * every process it started and removes the state. Its own state folder and free ports, so a system
 * the user has up is left alone. Needs a build (dist/); no rig, so no host users.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, envOf, nimbusCommand } from '../support/local-up.js';
import { OpenStackCli } from '../support/openstack-cli.js';

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

  const server = await cli!.json(
    'server',
    'create',
    '--os-compute-api-version',
    '2.37',
    '--flavor',
    'm1.nano',
    '--image',
    'nimbus-boot',
    '--nic',
    'none',
    '--wait',
    'on-fake',
  );
  expect(server['status']).toBe('ACTIVE');
  expect(server['OS-EXT-SRV-ATTR:host']).toMatch(/^sim-000[1-3]$/);
}, 180_000);

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
