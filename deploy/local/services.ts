/**
 * The parts of the one-machine install, in start order: how each is launched on loopback, how its
 * health is proven, and what it adds to `.nimbus/env`. Most parts are processes the Supervisor
 * runs; the hypervisor rig is a part of its own (Unix users, their libvirt, the project's sshd).
 * With the fake driver there is no rig and no console proxy (simulated hosts have no VNC): the
 * boot image is built on its own and the compute agent simulates the hosts. Later parts of the
 * system add themselves to PARTS (and to partsFor); `up` and `down` need no other change.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, credsAuthenticator } from '@nats-io/transport-node';

import { type NatsAccounts, createNatsAccounts, operatorModeConfig } from '#libs/bus';

import { BOOT_IMAGE_NAME, buildBootImage } from '../rig/boot-image.js';
import { DASHBOARD_FILES, assertDashboardInstalled, writeDashboardFiles } from './dashboard.js';
import { TOOLS, findTool, run } from '../rig/exec.js';
import { OpenStackHttp } from '../clients/openstack-http.js';
import { createRig, readInventory, sshdRunning, stopRig } from '../rig/rig.js';
import { freePort, preferredPort } from './ports.js';
import { type RunRecord, type ServiceLaunch, Supervisor, sleep } from './supervisor.js';

/** libvirt over SSH on the rig's hosts, or the fake driver's simulated hosts (for benchmarks). */
export const DRIVERS = ['libvirt', 'fake'] as const;
export type Driver = (typeof DRIVERS)[number];

export interface UpOptions {
  readonly driver: Driver;
  /**
   * The parts replicated as across machines: three NATS nodes in a JetStream cluster, two of the API
   * and of the console proxy behind haproxy, two schedulers (one relay active) and two compute agents
   * sharing the hosts.
   */
  readonly cluster: boolean;
  /** Hypervisor hosts: the rig's, or the fake driver's simulated ones. */
  readonly hosts: number;
  /** Names the rig's host users (`nimbus-<prefix>-h1`, ...): one prefix per system on the machine. */
  readonly rigPrefix: string;
  /** Serve the OpenStack dashboard too. */
  readonly dashboard: boolean;
}

export interface PartContext {
  readonly stateDir: string;
  readonly projectRoot: string;
  readonly options: UpOptions;
  /** What the parts started before this one exported (EVENTSTORE_URL, NATS_URL, ...). */
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Secrets;
  readonly supervisor: Supervisor;
}

export interface PartStatus {
  readonly state: 'started' | 'already running';
  /** What to show the user: a pid, a URL, a count of hosts. */
  readonly detail: string;
  readonly exports: Readonly<Record<string, string>>;
}

export interface Part {
  readonly name: string;
  ensure(context: PartContext): Promise<PartStatus>;
  /** Whether what `ensure` started is running and passes its health check. */
  healthy(stateDir: string, supervisor: Supervisor): Promise<boolean>;
  stop(stateDir: string, supervisor: Supervisor): Promise<string>;
}

/** Passwords and keys `up` makes once and keeps under `.nimbus/` (mode 0600), never printed. */
export interface Secrets {
  readonly adminPassword: string;
  readonly servicePassword: string;
  /** The key the API replicas of a cluster share to sign tokens. */
  readonly tokenSecret: string;
}

/** The variables of an environment file `up` writes (`export NAME='value'` lines). */
export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name = '', value = ''] of readFileSync(file, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm))
    env[name] = value;
  return env;
}

export function loadSecrets(stateDir: string): Secrets {
  const file = join(stateDir, 'secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : {};
  const secrets: Secrets = {
    adminPassword: kept.adminPassword ?? randomBytes(18).toString('base64url'),
    servicePassword: kept.servicePassword ?? randomBytes(18).toString('base64url'),
    tokenSecret: kept.tokenSecret ?? randomBytes(36).toString('base64url'),
  };
  if (Object.keys(kept).length === Object.keys(secrets).length) return secrets;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/** How long a part that was started has to pass its health check. */
export const HEALTH_TIMEOUT_MS = 90_000;

export interface ProcessSpec {
  readonly name: string;
  launch(context: PartContext): Promise<ServiceLaunch>;
  healthy(record: RunRecord): Promise<boolean>;
  /** Whether the running process was started for what the system now needs; restarted when not. */
  current?(record: RunRecord, context: PartContext): boolean;
  exports(record: RunRecord): Record<string, string>;
}

export const detail = (record: RunRecord, key: string): string => String(record.details[key]);

export const node = (context: PartContext, app: string): string[] => [
  process.execPath,
  join(context.projectRoot, `dist/apps/${app}/src/main.js`),
];

/** A supervised process: left alone while healthy, restarted when not, started when absent. */
export function processPart(spec: ProcessSpec): Part {
  return {
    name: spec.name,
    async ensure(context) {
      const { supervisor } = context;
      let record = await supervisor.running(spec.name);
      let state: PartStatus['state'] = 'already running';
      if (record && (!(await spec.healthy(record)) || spec.current?.(record, context) === false)) {
        await supervisor.stop(record);
        record = null;
      }
      if (!record) {
        record = supervisor.start(await spec.launch(context));
        state = 'started';
        const started = record;
        const deadline = Date.now() + HEALTH_TIMEOUT_MS;
        while (!(await spec.healthy(started))) {
          if (Date.now() > deadline || !(await supervisor.running(spec.name))) {
            throw new Error(
              `${spec.name} did not become healthy; last log lines (${started.log}):\n${supervisor.tail(started)}`,
            );
          }
          await sleep(250);
        }
      }
      const exports = spec.exports(record);
      // Where to reach it; files and keys go to the environment file, not the summary.
      const urls = Object.entries(exports)
        .filter(([name]) => name.endsWith('_URL'))
        .map(([, value]) => value);
      return { state, detail: `pid ${record.pid}  ${urls.join(' ')}`.trim(), exports };
    },
    async healthy(_stateDir, supervisor) {
      const record = await supervisor.running(spec.name);
      return record !== null && (await spec.healthy(record));
    },
    async stop(_stateDir, supervisor) {
      const record =
        (await supervisor.running(spec.name)) ?? supervisor.records().find((r) => r.name === spec.name);
      return record ? supervisor.stop(record) : 'not running';
    },
  };
}

async function collectAll<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export const eventStore = processPart({
  name: 'event-store',
  async launch(context) {
    const port = await preferredPort(2113);
    const dataDir = join(context.stateDir, 'event-store');
    return {
      name: 'event-store',
      argv: [...node(context, 'event-store'), '--data-dir', dataDir, '--port', String(port)],
      details: { port, dataDir, url: `esdb://127.0.0.1:${port}?tls=false` },
    };
  },
  async healthy(record) {
    const client = EventStoreDBClient.connectionString(detail(record, 'url'));
    try {
      // Read to the end (one event at most): a call abandoned half-read keeps dispose() waiting.
      await collectAll(client.readAll({ maxCount: 1 }));
      return true;
    } catch {
      return false;
    } finally {
      await client.dispose();
    }
  },
  exports: (record) => ({ EVENTSTORE_URL: detail(record, 'url') }),
});

export const nats = processPart({
  name: 'nats',
  async launch({ stateDir }) {
    const port = await preferredPort(4222);
    const monitorPort = await freePort();
    const dir = resolve(stateDir, 'nats');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'nats.conf');
    const auth = await natsAuthFiles(dir);
    // Debian's nats-server 2.9 cannot fsync each JetStream write (no sync_interval): the bus may
    // lose acknowledged messages on a crash, which is why nothing relies on it alone.
    writeFileSync(
      config,
      [
        `listen: 127.0.0.1:${port}`,
        `http: 127.0.0.1:${monitorPort}`,
        `server_name: nimbus-local`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'jetstream'))} }`,
        // Operator mode: every client shows a signed user; services share one, audit subscribers get
        // their own from the API, limited to their consumer.
        ...operatorModeConfig(auth.accounts),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return {
      name: 'nats',
      argv: ['/usr/sbin/nats-server', '-c', config],
      details: {
        port,
        monitorPort,
        url: `nats://127.0.0.1:${port}`,
        creds: auth.credsFile,
        signingKeyFile: auth.signingKeyFile,
        account: auth.accounts.account.publicKey,
      },
    };
  },
  healthy: (record) => natsHealthy(detail(record, 'url'), detail(record, 'creds')),
  exports: (record) => ({
    NATS_URL: detail(record, 'url'),
    NATS_CREDS: detail(record, 'creds'),
    NIMBUS_NATS_AUDIT_SIGNING_KEY_FILE: detail(record, 'signingKeyFile'),
    NIMBUS_NATS_ACCOUNT: detail(record, 'account'),
  }),
});

/** Whether a NATS server answers for JetStream (on a cluster, once a quorum has elected its leader). */
export async function natsHealthy(url: string, credsFile: string): Promise<boolean> {
  try {
    const connection = await connect({
      servers: url,
      timeout: 1_000,
      reconnect: false,
      authenticator: credsAuthenticator(readFileSync(credsFile)),
    });
    try {
      await (await jetstreamManager(connection, { timeout: 2_000 })).getAccountInfo();
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * The bus's accounts, made once and kept (mode 0600) so a restarted server knows the same users:
 * `accounts.json` (every key), the services' creds file and the API's audit signing key.
 */
export async function natsAuthFiles(
  dir: string,
): Promise<{ accounts: NatsAccounts; credsFile: string; signingKeyFile: string }> {
  const file = join(dir, 'accounts.json');
  const accounts = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as NatsAccounts)
    : await createNatsAccounts();
  writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  const credsFile = join(dir, 'nimbus-services.creds');
  writeFileSync(credsFile, accounts.serviceCreds, { mode: 0o600 });
  const signingKeyFile = join(dir, 'audit-signing.seed');
  writeFileSync(signingKeyFile, `${accounts.signingSeed}\n`, { mode: 0o600 });
  return { accounts, credsFile, signingKeyFile };
}

/** Where `up` keeps the rig: its inventory, keys, sshd and the hosts' disks. */
export const rigDir = (stateDir: string): string => join(stateDir, 'rig');

/** The local hypervisor hosts: created (or grown) and started by up, stopped (not removed) by down. */
export const rig: Part = {
  name: 'rig',
  async ensure({ stateDir, options }) {
    const before = await readInventory(rigDir(stateDir)).catch(() => null);
    const wasRunning = before !== null && (await sshdRunning(rigDir(stateDir)));
    const inventory = await createRig({
      stateDir: rigDir(stateDir),
      hosts: options.hosts,
      namePrefix: options.rigPrefix,
    });
    const unchanged = wasRunning && before.hosts.length === inventory.hosts.length;
    return {
      state: unchanged ? 'already running' : 'started',
      detail: `${inventory.hosts.length} host(s) ${inventory.hosts.map((host) => host.name).join(', ')}; sshd on 127.0.0.1:${inventory.sshPort}`,
      exports: {
        NIMBUS_RIG_INVENTORY: join(rigDir(stateDir), 'inventory.json'),
        NIMBUS_BOOT_IMAGE: inventory.bootImagePath,
        NIMBUS_NETNS: inventory.network.netns,
        NIMBUS_METADATA_SOCKET: inventory.network.metadataSocket,
      },
    };
  },
  healthy: (stateDir) => sshdRunning(rigDir(stateDir)),
  async stop(stateDir) {
    if (!existsSync(rigDir(stateDir))) return 'not running';
    await stopRig(rigDir(stateDir));
    return 'stopped (hosts and their guests kept, shut off)';
  },
};

/** Where the fake driver's system keeps the boot image the API seeds. */
const imagesDir = (stateDir: string): string => join(stateDir, 'images');

/** With the fake driver: the boot image the API seeds, built as the rig builds it, and no host. */
export const bootImage: Part = {
  name: 'boot-image',
  async ensure({ stateDir }) {
    const [nasm, qemuImg] = await Promise.all([findTool(TOOLS.nasm), findTool(TOOLS.qemuImg)]);
    const image = await buildBootImage({ nasm, qemuImg }, imagesDir(stateDir));
    return { state: 'started', detail: image, exports: { NIMBUS_BOOT_IMAGE: image } };
  },
  healthy: (stateDir) => Promise.resolve(existsSync(join(imagesDir(stateDir), BOOT_IMAGE_NAME))),
  stop: () => Promise.resolve('nothing to stop'),
};

/**
 * The API's environment on one machine: the store, the bus, its data, the passwords, the seeds and
 * the rig's metadata socket. A cluster's replicas override where each keeps its own.
 */
export function apiEnvironment(context: PartContext, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EVENTSTORE_URL: context.env.EVENTSTORE_URL,
    NATS_URL: context.env.NATS_URL,
    NATS_CREDS: context.env.NATS_CREDS,
    NIMBUS_API_PORT: String(port),
    NIMBUS_API_DATA_DIR: join(context.stateDir, 'api'),
    NIMBUS_API_ADMIN_PASSWORD: context.secrets.adminPassword,
    NIMBUS_API_SERVICE_PASSWORD: context.secrets.servicePassword,
    NIMBUS_API_SEED_IMAGE: context.env.NIMBUS_BOOT_IMAGE,
    NIMBUS_API_SEED_IMAGE_FORMAT: 'qcow2',
    // No image asks for the fake hypervisor: the seed image must not ask for QEMU either.
    NIMBUS_API_SEED_IMAGE_HYPERVISOR_TYPE: context.options.driver === 'fake' ? 'none' : 'qemu',
    // devstack's range for its `public` network: router gateways and floating IPs come from it.
    NIMBUS_API_EXTERNAL_NETWORK_CIDR: '172.24.4.0/24',
    NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE: context.env.NIMBUS_NATS_AUDIT_SIGNING_KEY_FILE,
    NIMBUS_API_AUDIT_NATS_ACCOUNT: context.env.NIMBUS_NATS_ACCOUNT,
    // Where the rig's metadata proxies forward guests' requests; no rig (fake hosts), no service.
    NIMBUS_API_METADATA_SOCKET: context.env.NIMBUS_METADATA_SOCKET,
  };
}

export const api = processPart({
  name: 'api',
  async launch(context) {
    const port = await preferredPort(8774);
    const url = `http://127.0.0.1:${port}`;
    return {
      name: 'api',
      argv: node(context, 'api'),
      env: apiEnvironment(context, port),
      details: { port, url },
    };
  },
  healthy: (record) => httpOk(`${detail(record, 'url')}/v3`),
  exports: (record) => ({ API_URL: detail(record, 'url') }),
});

/** The name the rig's Linux guest is known by in the image service. */
export const GUEST_IMAGE = 'nimbus-guest';

/**
 * The rig's Linux guest, in the image service as a public image, uploaded once through the image API
 * as any client would; a later `up` finds it active. A copy left half made by an interrupted `up` is
 * deleted and made again.
 */
export const guestImage: Part = {
  name: 'guest-image',
  async ensure({ stateDir, env, secrets }) {
    const inventory = await readInventory(rigDir(stateDir));
    const apiUrl = env.API_URL ?? '';
    const os = await OpenStackHttp.login(apiUrl, {
      user: 'admin',
      password: secrets.adminPassword,
      project: 'admin',
    });
    const found = await os.image<{ images: { id: string; status: string }[] }>(
      'GET',
      `/v2/images?name=${GUEST_IMAGE}`,
    );
    const active = found.body.images.find((image) => image.status === 'active');
    if (active) return { state: 'already running', detail: `image ${active.id}`, exports: {} };
    for (const image of found.body.images) await os.image('DELETE', `/v2/images/${image.id}`);
    const created = await os.image<{ id: string }>('POST', '/v2/images', {
      name: GUEST_IMAGE,
      disk_format: 'qcow2',
      container_format: 'bare',
      visibility: 'public',
    });
    if (created.status !== 201) throw new Error(`the image API refused ${GUEST_IMAGE}: ${created.status}`);
    const uploaded = await os.uploadImage(created.body.id, readFileSync(inventory.guestImagePath));
    if (uploaded !== 204) throw new Error(`the upload of ${GUEST_IMAGE} got ${uploaded}`);
    return { state: 'started', detail: `image ${created.body.id}, flavor m1.micro`, exports: {} };
  },
  healthy: () => Promise.resolve(true),
  stop: () => Promise.resolve('nothing to stop'),
};

/**
 * The outside of the rig's guest networks: each external network's bridge in the rig's namespace,
 * which holds the external subnet's gateway address there, as devstack's host holds its `public`
 * network's. Floating IPs and router gateways answer it from there. Read through the network API as
 * any client would; made by the rig's network helper, and gone with the rig's namespace at `down`.
 */
export const outside: Part = {
  name: 'external-network',
  async ensure({ stateDir, env, secrets }) {
    const inventory = await readInventory(rigDir(stateDir));
    const os = await OpenStackHttp.login(env.API_URL ?? '', {
      user: 'admin',
      password: secrets.adminPassword,
      project: 'admin',
    });
    const networks = await os.network<{ networks: { id: string; name: string }[] }>(
      'GET',
      '/networks?router:external=True',
    );
    const made: string[] = [];
    let changed = false;
    for (const network of networks.body.networks) {
      const subnets = await os.network<{
        subnets: { cidr: string; gateway_ip: string | null; ip_version: number }[];
      }>('GET', `/subnets?network_id=${network.id}`);
      const subnet = subnets.body.subnets.find((each) => each.ip_version === 4 && each.gateway_ip);
      if (!subnet?.gateway_ip) continue;
      const address = `${subnet.gateway_ip}/${subnet.cidr.split('/')[1] ?? ''}`;
      const held = await run('ip', ['-n', inventory.network.netns, '-4', '-o', 'addr', 'show']);
      changed ||= !held.stdout.includes(` ${address} `);
      await run('sudo', ['-n', inventory.network.helperPath, 'outside', network.id], {
        input: JSON.stringify({ cidr: subnet.cidr, gateway: subnet.gateway_ip }),
      });
      made.push(`${network.name} ${subnet.cidr}, the rig's namespace at ${subnet.gateway_ip}`);
    }
    const detail = made.join('; ') || 'no external network';
    return { state: changed ? 'started' : 'already running', detail, exports: {} };
  },
  healthy: () => Promise.resolve(true),
  stop: () => Promise.resolve('nothing to stop'),
};

/** The scheduler's environment on one machine. */
export function schedulerEnvironment(context: PartContext, healthPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EVENTSTORE_URL: context.env.EVENTSTORE_URL,
    NATS_URL: context.env.NATS_URL,
    NATS_CREDS: context.env.NATS_CREDS,
    NIMBUS_SCHEDULER_HEALTH_PORT: String(healthPort),
  };
}

export const scheduler = processPart({
  name: 'scheduler',
  async launch(context) {
    const port = await freePort();
    return {
      name: 'scheduler',
      argv: node(context, 'scheduler'),
      env: schedulerEnvironment(context, port),
      details: { healthPort: port },
    };
  },
  healthy: (record) => httpOk(`http://127.0.0.1:${detail(record, 'healthPort')}/healthz`),
  exports: () => ({}),
});

/** The compute agent's environment on one machine: the rig's hosts (or simulated ones), images, consoles. */
export function computeEnvironment(context: PartContext, healthPort: number): NodeJS.ProcessEnv {
  const apiUrl = context.env.API_URL ?? '';
  const { driver, hosts } = context.options;
  // The rig's hosts share this one machine: each offers its share, not the whole machine.
  const ramShareMb = Math.floor((totalmem() / 2 ** 20) * 0.5) / Math.max(1, hosts);
  const hypervisor =
    driver === 'fake'
      ? { NIMBUS_COMPUTE_DRIVER: 'fake', NIMBUS_COMPUTE_FAKE_HOSTS: String(hosts) }
      : {
          NIMBUS_COMPUTE_INVENTORY: context.env.NIMBUS_RIG_INVENTORY,
          NIMBUS_COMPUTE_MAX_VCPUS: String(cpus().length),
          NIMBUS_COMPUTE_MAX_RAM_MB: String(Math.floor(ramShareMb)),
        };
  return {
    ...process.env,
    EVENTSTORE_URL: context.env.EVENTSTORE_URL,
    NATS_URL: context.env.NATS_URL,
    NATS_CREDS: context.env.NATS_CREDS,
    ...hypervisor,
    NIMBUS_COMPUTE_IMAGE_API_URL: `${apiUrl}/image`,
    NIMBUS_COMPUTE_IDENTITY_URL: `${apiUrl}/v3`,
    NIMBUS_COMPUTE_SERVICE_PASSWORD: context.secrets.servicePassword,
    NIMBUS_COMPUTE_IMAGE_CACHE_DIR: join(context.stateDir, 'compute', 'images'),
    NIMBUS_COMPUTE_HEALTH_PORT: String(healthPort),
    ...(context.env.CONSOLE_URL ? { NIMBUS_CONSOLE_BASE_URL: context.env.CONSOLE_URL } : {}),
  };
}

export const compute = processPart({
  name: 'compute',
  async launch(context) {
    const port = await freePort();
    const { driver, hosts } = context.options;
    return {
      name: 'compute',
      argv: node(context, 'compute'),
      env: computeEnvironment(context, port),
      details: { healthPort: port, driver, hosts },
    };
  },
  healthy: (record) => httpOk(`http://127.0.0.1:${detail(record, 'healthPort')}/healthz`),
  exports: () => ({}),
});

/** The console proxy's environment on one machine: `baseUrl` is where users reach it (and its allowed origin). */
export function consoleProxyEnvironment(
  context: PartContext,
  ports: { port: number; healthPort: number },
  baseUrl: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EVENTSTORE_URL: context.env.EVENTSTORE_URL,
    NIMBUS_CONSOLE_PORT: String(ports.port),
    NIMBUS_CONSOLE_BASE_URL: baseUrl,
    NIMBUS_CONSOLE_INVENTORY: context.env.NIMBUS_RIG_INVENTORY,
    NIMBUS_CONSOLE_HEALTH_PORT: String(ports.healthPort),
    // The dashboard's console tab shows the console in a frame.
    NIMBUS_CONSOLE_FRAME_ANCESTORS: context.env.DASHBOARD_URL ?? '',
  };
}

export const consoleProxy = processPart({
  name: 'console-proxy',
  async launch(context) {
    const port = await preferredPort(6080);
    const healthPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    return {
      name: 'console-proxy',
      argv: node(context, 'console-proxy'),
      env: consoleProxyEnvironment(context, { port, healthPort }, url),
      details: { healthPort, url, frameAncestors: context.env.DASHBOARD_URL ?? '' },
    };
  },
  current: (record, context) => record.details['frameAncestors'] === (context.env.DASHBOARD_URL ?? ''),
  healthy: (record) => httpOk(`http://127.0.0.1:${detail(record, 'healthPort')}/healthz`),
  exports: (record) => ({ CONSOLE_URL: detail(record, 'url') }),
});

/**
 * The OpenStack dashboard (Horizon under uWSGI) on the API's Keystone: only with `--dashboard`. It starts
 * before the console proxy, which lets the dashboard frame its console page.
 */
export const dashboard = processPart({
  name: 'dashboard',
  async launch(context) {
    assertDashboardInstalled();
    const port = await preferredPort(8080);
    const files = writeDashboardFiles(
      join(context.stateDir, 'dashboard'),
      port,
      `${context.env.API_URL ?? ''}/v3`,
    );
    return {
      name: 'dashboard',
      argv: [DASHBOARD_FILES.uwsgi, '--ini', files.ini],
      details: { port, url: files.url },
    };
  },
  healthy: (record) => httpOk(`${detail(record, 'url')}/auth/login/`),
  exports: (record) => ({ DASHBOARD_URL: detail(record, 'url') }),
});

/** The credentials file devstack users know: `source .nimbus/openrc; openstack server list`. */
export function openrc(apiUrl: string, secrets: Secrets): string {
  return [
    '# Nimbus admin credentials for the openstack CLI; written by `npm run up`.',
    `export OS_AUTH_URL='${apiUrl}/v3'`,
    "export OS_USERNAME='admin'",
    `export OS_PASSWORD='${secrets.adminPassword}'`,
    "export OS_PROJECT_NAME='admin'",
    "export OS_USER_DOMAIN_NAME='Default'",
    "export OS_PROJECT_DOMAIN_NAME='Default'",
    'export OS_IDENTITY_API_VERSION=3',
    '# 2.37 lets `openstack server create` choose its network: --nic none, auto, or --network.',
    'export OS_COMPUTE_API_VERSION=2.37',
    '',
  ].join('\n');
}

export { Supervisor };
