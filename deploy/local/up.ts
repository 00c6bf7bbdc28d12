/**
 * `npm run up`: brings the whole system up in the background on its embedded defaults, waits
 * until every part is healthy, writes `.nimbus/env` and `.nimbus/openrc`, says what is running and
 * what to try next, and exits 0. Run again, it leaves healthy parts alone and changes nothing.
 * Debian packages and npm dependencies are bootstrap.mjs's business, which `npm run up` runs first.
 *
 *   npm run up                  one hypervisor host
 *   npm run up -- --hosts 3     three
 *   --state-dir <dir> --rig-prefix <name>   a second system beside the default one
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { validateNamePrefix } from '../rig/naming.js';
import { PARTS, Supervisor, loadSecrets, openrc } from './services.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseHosts(value: string | undefined): number {
  if (value === undefined) return 1;
  const hosts = Number(value);
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 16)
    throw new Error(`--hosts must be a whole number from 1 to 16, got ${value}`);
  return hosts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      hosts: { type: 'string' },
      'rig-prefix': { type: 'string', default: 'local' },
    },
    strict: true,
  });
  const options = { hosts: parseHosts(values.hosts), rigPrefix: validateNamePrefix(values['rig-prefix']) };
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);
  const secrets = loadSecrets(stateDir);

  const env: Record<string, string> = {};
  const rows: [string, string, string][] = [];
  for (const part of PARTS) {
    const status = await part.ensure({
      stateDir,
      projectRoot: process.cwd(),
      options,
      env,
      secrets,
      supervisor,
    });
    Object.assign(env, status.exports);
    rows.push([part.name, status.state, status.detail]);
  }

  const envFile = join(stateDir, 'env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([key, value]) => `export ${key}='${value}'\n`)
      .join(''),
  );
  const openrcFile = join(stateDir, 'openrc');
  writeFileSync(openrcFile, openrc(env.API_URL ?? '', secrets), { mode: 0o600 });

  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  log('Nimbus is up:');
  for (const [name, state, detail] of rows) {
    log(`  ${name.padEnd(widths[0] ?? 0)}  ${state.padEnd(widths[1] ?? 0)}  ${detail}`);
  }
  log('');
  log(`API:          ${env.API_URL ?? ''}`);
  log(`Environment:  ${envFile}`);
  log(`Credentials:  ${openrcFile} (admin; the password is in ${join(stateDir, 'secrets.json')})`);
  log('');
  log('Try next:');
  log(`  source ${openrcFile}`);
  log('  openstack server create --flavor m1.nano --image nimbus-boot --wait demo');
  log('  openstack server list; openstack console log show demo; openstack console url show demo');
  log("  npm run ops -- history instance-<server id>    # the server's events, who caused them and why");
  log('  npm run down                                     # stop everything; data stays under .nimbus/');
  log('  npm run down -- --purge                          # stop, then delete the data and the host users');
}

main().catch((error: unknown) => {
  process.stderr.write(`up: ${(error as Error).message}\n`);
  process.exit(1);
});
