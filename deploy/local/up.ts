/**
 * `npm run up`: brings the whole system up in the background on its embedded defaults, waits
 * until every part is healthy, writes `.nimbus/env` and `.nimbus/openrc`, says what is running and
 * what to try next, and exits 0. Run again, it leaves healthy parts alone and changes nothing.
 * Debian packages and npm dependencies are bootstrap.mjs's business, which `npm run up` runs first.
 *
 *   npm run up                                one hypervisor host (libvirt over SSH on the rig)
 *   npm run up -- --hosts 3                   three
 *   npm run up -- --driver fake --hosts 100   a hundred simulated hosts, for client-side benchmarks
 *   npm run up -- --dashboard                 the OpenStack dashboard too (Debian's Horizon under uWSGI)
 *   npm run up -- --cluster                   every part replicated: three NATS nodes, two of the rest
 *                                             (haproxy in front of the APIs and console proxies)
 *   --state-dir <dir> --rig-prefix <name>     a second system beside the default one
 * A system that is up keeps its driver, host count and shape: `npm run down` first to change them. A dashboard
 * once started keeps being served by later `up`s.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { validateNamePrefix } from '../rig/naming.js';
import { partsFor } from './parts.js';
import { DRIVERS, type Driver, Supervisor, loadSecrets, openrc } from './services.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The most hosts per driver: the rig's share one machine; simulated ones cost a little memory each. */
const MAX_HOSTS: Readonly<Record<Driver, number>> = { libvirt: 16, fake: 1000 };

function parseDriver(value: string): Driver {
  const driver = DRIVERS.find((candidate) => candidate === value);
  if (driver === undefined) throw new Error(`--driver must be one of ${DRIVERS.join(', ')}, got ${value}`);
  return driver;
}

function parseHosts(value: string | undefined, driver: Driver): number {
  if (value === undefined) return 1;
  const hosts = Number(value);
  const max = MAX_HOSTS[driver];
  if (!/^[0-9]+$/.test(value) || hosts < 1 || hosts > max)
    throw new Error(
      `--hosts must be a whole number from 1 to ${max} with the ${driver} driver, got ${value}`,
    );
  return hosts;
}

/**
 * Refuses to change the driver, the host count or the shape (one of each part, or `--cluster`) of a
 * system that is up: the agents would not follow.
 */
async function assertSameShape(
  supervisor: Supervisor,
  wanted: { driver: Driver; hosts: number; cluster: boolean },
): Promise<void> {
  const single = await supervisor.running('compute');
  const compute = single ?? (await supervisor.running('compute-1'));
  if (compute === null) return;
  const cluster = single === null;
  const driver = String(compute.details['driver'] ?? 'libvirt');
  const hosts = compute.details['hosts'];
  if (
    driver === wanted.driver &&
    (hosts === undefined || hosts === wanted.hosts) &&
    cluster === wanted.cluster
  )
    return;
  const shape = `--driver ${driver}${hosts === undefined ? '' : ` --hosts ${hosts}`}${cluster ? ' --cluster' : ''}`;
  throw new Error(`Nimbus is up here with ${shape}; run \`npm run down\` first to change it`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      hosts: { type: 'string' },
      driver: { type: 'string', default: 'libvirt' },
      'rig-prefix': { type: 'string', default: 'local' },
      dashboard: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const driver = parseDriver(values.driver);
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);
  const options = {
    driver,
    hosts: parseHosts(values.hosts, driver),
    rigPrefix: validateNamePrefix(values['rig-prefix']),
    dashboard: values.dashboard || (await supervisor.running('dashboard')) !== null,
    cluster: values.cluster,
  };
  await assertSameShape(supervisor, options);
  const secrets = loadSecrets(stateDir);

  const env: Record<string, string> = {};
  const rows: [string, string, string][] = [];
  for (const part of partsFor(options)) {
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
  if (env.DASHBOARD_URL)
    log(`Dashboard:    ${env.DASHBOARD_URL} (log in as admin, or as any user of a project)`);
  log(`Environment:  ${envFile}`);
  log(`Credentials:  ${openrcFile} (admin; the password is in ${join(stateDir, 'secrets.json')})`);
  log('');
  log('Try next:');
  log(`  source ${openrcFile}`);
  log('  openstack server create --flavor m1.nano --image nimbus-boot --wait demo');
  if (driver !== 'fake') {
    log(
      '  openstack network create net1; openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1',
    );
    log(
      '  openstack router create r1; openstack router add subnet r1 sub1; openstack router set --external-gateway public r1',
    );
    log('  openstack security group rule create --protocol icmp default');
    log('  openstack server create --flavor m1.micro --image nimbus-guest --network net1 --wait guest1');
    log('  openstack console log show guest1                # its DHCP address and metadata');
    log('  openstack floating ip create public; openstack server add floating ip guest1 <that address>');
    log(`  ip netns exec ${env.NIMBUS_NETNS ?? ''} ping <that address>   # from the outside, through r1`);
  }
  if (driver === 'fake') {
    log(`  openstack hypervisor list                        # ${options.hosts} simulated host(s), type fake`);
    log('  openstack server list                            # (simulated hosts have no console)');
  } else {
    log('  openstack server list; openstack console log show demo; openstack console url show demo');
  }
  log("  npm run ops -- history instance-<server id>    # the server's events, who caused them and why");
  log('  npm run down                                     # stop everything; data stays under .nimbus/');
  log('  npm run down -- --purge                          # stop, then delete the data and the host users');
}

main().catch((error: unknown) => {
  process.stderr.write(`up: ${(error as Error).message}\n`);
  process.exit(1);
});
