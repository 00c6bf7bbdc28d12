/**
 * `npm run interop`: OpenStack's own interop tests against the system `npm run up` started. Installs
 * Debian's `tempest` if it is missing, writes a Tempest workspace under `.nimbus/interop/` configured
 * for this Nimbus (identity v3 with dynamic credentials made by the admin of `.nimbus/`, compute and
 * image and network enabled, no block storage), runs the guideline's required compute, identity, image
 * and networking tests, prints a table (each test's result, and the reason of each failure or skip) and, last,
 * one JSON line: interopPassed, interopFailed, interopSkipped, interopTotal. Exits 1 if any failed.
 *
 *   npm run interop                          all 173 tests
 *   npm run interop -- --filter identity     those whose name matches a regular expression
 *   --state-dir <dir>   --concurrency <n>    another system's state folder; Tempest workers (2)
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { readEnvFile } from '../local/services.js';
import {
  type GuidelineTest,
  type TestResult,
  parseGuideline,
  parseRun,
  summarize,
  untagged,
} from './results.js';

const GUIDELINE = 'deploy/interop/guideline-2020.06.tsv';
const TEMPEST = '/usr/bin/tempest';
const ALT_IMAGE = 'interop-alt';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** What the running system tells Tempest: where it is, who administers it, what to boot. */
interface Target {
  readonly apiUrl: string;
  readonly adminPassword: string;
  readonly imageId: string;
  /** A second image: the list filters by image are skipped without one. */
  readonly imageAltId: string;
  readonly flavorId: string;
  readonly flavorAltId: string;
  readonly maxMicroversion: string;
  /** The network API's extensions, as it lists them: Tempest counts on these only. */
  readonly networkExtensions: readonly string[];
  /** The external network router gateways come from; empty: none, and Tempest skips what needs one. */
  readonly publicNetworkId: string;
  readonly publicNetworkName: string;
}

interface CatalogEntry {
  readonly type: string;
  readonly endpoints: readonly { readonly url: string }[];
}

function ensureTempest(): void {
  if (existsSync(TEMPEST)) return;
  if (process.getuid?.() !== 0)
    throw new Error("Tempest is missing: install Debian's package (apt-get install tempest) or run as root");
  log("Installing Debian's tempest package ...");
  const installed = spawnSync('apt-get', ['install', '-y', '-q', 'tempest'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (installed.status !== 0 || !existsSync(TEMPEST)) throw new Error('apt-get install tempest failed');
}

async function call(url: string, init: RequestInit = {}): Promise<{ body: unknown; headers: Headers }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}`);
  return { body: await response.json(), headers: response.headers };
}

/** Reads what the configuration needs from the running system, as the admin. */
async function discover(stateDir: string): Promise<Target> {
  const envFile = join(stateDir, 'env');
  const secretsFile = join(stateDir, 'secrets.json');
  if (!existsSync(envFile) || !existsSync(secretsFile))
    throw new Error(`Nimbus is not up here (no ${envFile}): run \`npm run up\` first`);
  const apiUrl = readEnvFile(envFile)['API_URL'];
  if (!apiUrl) throw new Error(`${envFile} names no API_URL: run \`npm run up\` again`);
  const { adminPassword } = JSON.parse(readFileSync(secretsFile, 'utf8')) as { adminPassword: string };

  const issued = await call(`${apiUrl}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  const token = issued.headers.get('x-subject-token');
  if (!token) throw new Error('the API issued no admin token');
  const headers = { 'x-auth-token': token };
  const endpoint = (type: string): string => {
    const { catalog } = (issued.body as { token: { catalog: CatalogEntry[] } }).token;
    const url = catalog.find((entry) => entry.type === type)?.endpoints[0]?.url;
    if (!url) throw new Error(`the service catalog has no ${type} endpoint`);
    return url.replace(/\/$/, '');
  };

  const { version } = (await call(`${apiUrl}/v2.1/`)).body as { version: { version: string } };
  const { flavors } = (await call(`${endpoint('compute')}/flavors/detail`, { headers })).body as {
    flavors: { id: string; ram: number; vcpus: number }[];
  };
  const [flavor, flavorAlt] = [...flavors].sort((a, b) => a.ram - b.ram || a.vcpus - b.vcpus);
  if (!flavor || !flavorAlt) throw new Error('Tempest needs two flavors; the cloud has fewer');
  const { images } = (await call(`${endpoint('image')}/v2/images?status=active`, { headers })).body as {
    images: { id: string; name: string }[];
  };
  const image = images.find((candidate) => candidate.name === 'nimbus-boot') ?? images[0];
  if (!image) throw new Error('Tempest needs an active image; the cloud has none');
  const alternate =
    images.find((candidate) => candidate.name === ALT_IMAGE) ??
    (await copyImage(endpoint('image'), headers, image.id));
  const { extensions } = (await call(`${endpoint('network')}/v2.0/extensions`, { headers })).body as {
    extensions: { alias: string }[];
  };
  const { networks } = (await call(`${endpoint('network')}/v2.0/networks?router:external=true`, { headers }))
    .body as { networks: { id: string; name: string }[] };
  const [external] = networks;
  return {
    apiUrl,
    adminPassword,
    networkExtensions: extensions.map((extension) => extension.alias),
    publicNetworkId: external?.id ?? '',
    publicNetworkName: external?.name ?? '',
    imageId: image.id,
    imageAltId: alternate.id,
    flavorId: flavor.id,
    flavorAltId: flavorAlt.id,
    maxMicroversion: version.version,
  };
}

/** A public copy of the image, made once (by the admin) under ALT_IMAGE's name. */
async function copyImage(
  imageUrl: string,
  headers: Record<string, string>,
  sourceId: string,
): Promise<{ id: string }> {
  log(`Making a second public image, ${ALT_IMAGE}, for the tests that need two ...`);
  const source = await fetch(`${imageUrl}/v2/images/${sourceId}/file`, {
    headers,
    signal: AbortSignal.timeout(60_000),
  });
  if (!source.ok) throw new Error(`reading image ${sourceId} answered ${source.status}`);
  const data = Buffer.from(await source.arrayBuffer());
  const created = (
    await call(`${imageUrl}/v2/images`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: ALT_IMAGE,
        disk_format: 'qcow2',
        container_format: 'bare',
        visibility: 'public',
      }),
    })
  ).body as { id: string };
  const uploaded = await fetch(`${imageUrl}/v2/images/${created.id}/file`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: data,
    signal: AbortSignal.timeout(60_000),
  });
  if (!uploaded.ok) throw new Error(`uploading ${ALT_IMAGE} answered ${uploaded.status}`);
  return created;
}

/** Tempest's configuration for this cloud: what it has, and that block storage it has not. */
function tempestConf(workspace: string, target: Target): string {
  return `# Written by \`npm run interop\` for the Nimbus at ${target.apiUrl}; rewritten at every run.
[DEFAULT]
log_dir = ${join(workspace, 'logs')}
log_file = tempest.log

[oslo_concurrency]
lock_path = ${join(workspace, 'lock')}

[auth]
use_dynamic_credentials = true
admin_username = admin
admin_password = ${target.adminPassword}
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
create_isolated_networks = false
tempest_roles = member

[identity]
uri_v3 = ${target.apiUrl}/v3
auth_version = v3
region = RegionOne

[identity-feature-enabled]
api_v2 = false
api_v3 = true
application_credentials = true

[compute]
image_ref = ${target.imageId}
image_ref_alt = ${target.imageAltId}
flavor_ref = ${target.flavorId}
flavor_ref_alt = ${target.flavorAltId}
region = RegionOne
min_microversion = 2.1
max_microversion = ${target.maxMicroversion}
build_timeout = 120
build_interval = 1

[compute-feature-enabled]
# The server metadata tests are gated on this flag for historical reasons; they test plain Nova calls.
xenapi_apis = true
console_output = true
vnc_console = false
interface_attach = true
change_password = false
resize = true
snapshot = true

[image]
region = RegionOne
build_timeout = 120

[image-feature-enabled]
api_v2 = true
api_v1 = false

[network]
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
# The external network router gateways come from (\`npm run up\` makes it as \`public\`).
public_network_id = ${target.publicNetworkId}
floating_network_name = ${target.publicNetworkName}

[network-feature-enabled]
ipv6 = true
api_extensions = ${target.networkExtensions.join(',')}

[service_available]
nova = true
glance = true
neutron = true
cinder = false
swift = false
heat = false
horizon = false

[validation]
run_validation = false
`;
}

/**
 * The Tempest workspace, made here rather than by `tempest init`, which would also register it in the
 * user's own `~/.tempest`: the test runner's configuration (where Tempest's tests are) and ours.
 */
function writeWorkspace(workspace: string, target: Target): void {
  const found = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import os, tempest; print(os.path.dirname(tempest.__file__))'],
    {
      encoding: 'utf8',
    },
  );
  const tempestDir = found.stdout.trim();
  if (found.status !== 0 || !tempestDir) throw new Error("Tempest's Python package cannot be found");
  for (const dir of ['etc', 'logs', 'lock']) mkdirSync(join(workspace, dir), { recursive: true });
  writeFileSync(
    join(workspace, '.stestr.conf'),
    `[DEFAULT]\ntest_path=${tempestDir}/test_discover\ntop_dir=${tempestDir}\ngroup_regex=([^\\.]*\\.)*\n`,
  );
  writeFileSync(join(workspace, 'etc', 'tempest.conf'), tempestConf(workspace, target), { mode: 0o600 });
}

/** Runs Tempest in the workspace, keeping its whole output in `last-run.log` and saying each result. */
function runTempest(workspace: string, listFile: string, concurrency: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TEMPEST, ['run', '--load-list', listFile, '--concurrency', String(concurrency)], {
      cwd: workspace,
      env: { ...process.env, TEMPEST_CONFIG_DIR: join(workspace, 'etc'), TEMPEST_CONFIG: 'tempest.conf' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(join(workspace, 'last-run.log'));
    let output = '';
    let pending = '';
    let done = 0;
    const take = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      file.write(text);
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [, name = '', status = ''] =
          /^\{\d+\} (?:setUpClass \()?([^\s)]+).* \.\.\. (ok|FAILED|SKIPPED)/.exec(line) ?? [];
        if (status) log(`  [${++done}] ${status.padEnd(7)} ${name.split('.').slice(-2).join('.')}`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', () => {
      file.end();
      resolvePromise(output);
    });
  });
}

function table(results: readonly TestResult[]): string {
  const rows = results.map((result) => [
    result.outcome,
    result.capability,
    untagged(result.name).split('.').slice(-2).join('.'),
    result.reason ?? '',
  ]);
  const header = ['result', 'capability', 'test', 'reason'];
  const widths = header.map((title, column) =>
    Math.min(70, Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string', default: '.nimbus' },
      filter: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
    },
  });
  const stateDir = resolve(values['state-dir']);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16)
    throw new Error(`--concurrency must be a whole number from 1 to 16, got ${values.concurrency}`);
  const filter = values.filter === undefined ? null : new RegExp(values.filter);
  const guideline: GuidelineTest[] = parseGuideline(readFileSync(GUIDELINE, 'utf8')).filter(
    (test) => filter === null || filter.test(test.name) || filter.test(test.capability),
  );
  if (guideline.length === 0) throw new Error(`no test of the guideline matches --filter ${values.filter}`);

  ensureTempest();
  const target = await discover(stateDir);
  const workspace = join(stateDir, 'interop');
  writeWorkspace(workspace, target);
  const listFile = join(workspace, 'interop-tests.txt');
  writeFileSync(listFile, `${guideline.map((test) => test.name).join('\n')}\n`);

  log(
    `Running ${guideline.length} interop tests against ${target.apiUrl} (Tempest workspace ${workspace}) ...`,
  );
  const started = Date.now();
  const output = await runTempest(workspace, listFile, concurrency);
  const results = parseRun(output, guideline);
  const summary = summarize(results);
  const order = { failed: 0, skipped: 1, passed: 2 } as const;
  process.stdout.write(`${table([...results].sort((a, b) => order[a.outcome] - order[b.outcome]))}\n\n`);
  process.stdout.write(
    `passed ${summary.interopPassed}, failed ${summary.interopFailed}, skipped ${summary.interopSkipped} of ${summary.interopTotal} in ${Math.round((Date.now() - started) / 1000)} s; Tempest's whole output: ${join(workspace, 'last-run.log')}\n`,
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = summary.interopFailed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  log(`interop: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
