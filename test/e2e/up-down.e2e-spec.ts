/**
 * The README's first command, as a user runs it: `up` brings every part up and healthy, writes the
 * environment and credentials files and exits 0; run again it changes nothing; `down` stops exactly
 * what it started and keeps the data; `down --purge` leaves nothing behind, host users included.
 * Runs on its own state folder and rig prefix, so a system the user has up is left alone; the ports
 * it prefers are taken by that system, it takes free ones. Needs root (the rig) and a build (dist/).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { alive, envOf, nimbusCommand } from '../support/local-up.js';

const run = promisify(execFile);

const workDir = mkdtempSync(join(tmpdir(), 'nimbus-up-'));
const stateDir = join(workDir, 'state');
const prefix = `u${randomUUID().slice(0, 6)}`;

function nimbus(command: 'up' | 'down', ...args: string[]): Promise<string> {
  return nimbusCommand(stateDir, command, args, 240_000);
}

/** part name → [state, pid] as `up` printed them. */
function partsOf(stdout: string): Map<string, [string, string | undefined]> {
  const parts = new Map<string, [string, string | undefined]>();
  for (const match of stdout.matchAll(/^ {2}(\S+)\s+(started|already running)\s+(.*)$/gm)) {
    parts.set(match[1]!, [match[2]!, /^pid (\d+)/.exec(match[3]!)?.[1]]);
  }
  return parts;
}

async function userExists(name: string): Promise<boolean> {
  return run('getent', ['passwd', name]).then(
    () => true,
    () => false,
  );
}

const PARTS = [
  'event-store',
  'nats',
  'rig',
  'api',
  'guest-image',
  'external-network',
  'scheduler',
  'console-proxy',
  'compute',
];
let first: Map<string, [string, string | undefined]>;

afterAll(async () => {
  // Whatever a failed test left running or created.
  if (existsSync(stateDir)) await nimbus('down', '--purge').catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}, 120_000);

it('comes up healthy, says what to do next, and writes the environment and credentials', async () => {
  const stdout = await nimbus('up', '--rig-prefix', prefix);

  first = partsOf(stdout);
  expect([...first.keys()]).toEqual(PARTS);
  expect([...first.values()].map(([state]) => state)).toEqual(PARTS.map(() => 'started'));
  expect(stdout).toContain('openstack server create --flavor m1.nano --image nimbus-boot --wait demo');
  const env = envOf(join(stateDir, 'env'));
  expect(Object.keys(env)).toEqual(
    expect.arrayContaining(['EVENTSTORE_URL', 'NATS_URL', 'API_URL', 'CONSOLE_URL']),
  );
  expect((await fetch(`${env['API_URL']}/v3`)).status).toBe(200);
  expect((await fetch(`${env['CONSOLE_URL']}/vnc_lite.html`)).status).toBe(200);
  expect(statSync(join(stateDir, 'openrc')).mode & 0o777).toBe(0o600);
  expect(readFileSync(join(stateDir, 'openrc'), 'utf8')).toContain(`OS_AUTH_URL='${env['API_URL']}/v3'`);
  expect(await userExists(`nimbus-${prefix}-h1`)).toBe(true);
  expect(env['NIMBUS_NETNS']).toBe(`nimbus-${prefix}`);
  expect(await rigNamespaces()).toEqual([`nimbus-${prefix}`]);
  // The external network's outside: the rig's namespace at its gateway, as devstack's host is.
  const { stdout: addresses } = await run('ip', ['-n', `nimbus-${prefix}`, '-4', '-o', 'addr', 'show']);
  expect(addresses).toMatch(/brq[0-9a-f-]{11} +inet 172\.24\.4\.1\/24 /);
  expect(existsSync(`/etc/sudoers.d/nimbus-rig-${prefix}`)).toBe(true);
}, 240_000);

it('changes nothing when run again', async () => {
  const again = partsOf(await nimbus('up', '--rig-prefix', prefix));

  expect([...again.values()].map(([state]) => state)).toEqual(PARTS.map(() => 'already running'));
  expect([...again.values()].map(([, pid]) => pid)).toEqual([...first.values()].map(([, pid]) => pid));
}, 120_000);

it('stops exactly what it started with down, keeping the data, and leaves nothing with --purge', async () => {
  const pids = [...first.values()].flatMap(([, pid]) => (pid === undefined ? [] : [pid]));
  expect(pids.length).toBeGreaterThanOrEqual(6);

  expect(await nimbus('down')).toContain(`data kept in ${stateDir}`);
  expect(pids.filter(alive)).toEqual([]);
  // The rig's network goes with its guests; the next up makes it again.
  expect(await rigNamespaces()).toEqual([]);
  expect(existsSync(join(stateDir, 'env'))).toBe(true);

  expect(await nimbus('down', '--purge')).toContain('purged');
  expect(existsSync(stateDir)).toBe(false);
  expect(await userExists(`nimbus-${prefix}-h1`)).toBe(false);
  expect(await rigNamespaces()).toEqual([]);
  expect(existsSync(`/etc/sudoers.d/nimbus-rig-${prefix}`)).toBe(false);
  expect(existsSync(`/run/nimbus-${prefix}`)).toBe(false);
}, 120_000);

/** The network namespaces of this test's rig: its own and every one hung from it. */
async function rigNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name === `nimbus-${prefix}` || name.startsWith(`nimbus-${prefix}-`));
}
