/**
 * The parts of `up --cluster`: the one-machine system with every part replicated as it would be across
 * machines. Three `nats-server` nodes form a JetStream cluster (streams and buckets with three
 * replicas); haproxy balances two API replicas on the API's usual port and two console proxies on the
 * console's, and the guests' metadata socket over the API replicas' own; two schedulers (one relay
 * active, by lease) and two compute agents sharing the rig's hosts (each host driven by one, by lease).
 * The store stays the embedded server: the one part that cannot be clustered on this machine.
 *
 * Ports are planned once into `.nimbus/cluster.json`, so a later `up` finds every part where it was and
 * the balancer and the NATS routes can name parts that are not started yet.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { operatorModeConfig } from '#libs/bus';

import { findTool } from '../rig/exec.js';
import { NETWORK_TOOLS } from '../rig/host-network.js';
import { freePort, preferredPort } from './ports.js';
import {
  HEALTH_TIMEOUT_MS,
  type Part,
  type PartContext,
  apiEnvironment,
  computeEnvironment,
  consoleProxyEnvironment,
  detail,
  httpOk,
  natsAuthFiles,
  natsHealthy,
  node,
  processPart,
  schedulerEnvironment,
} from './services.js';
import { sleep } from './supervisor.js';

/** NATS nodes: a JetStream cluster needs three for a quorum that survives the loss of one. */
export const NATS_NODES = 3;
/** Replicas of each stateless service. */
export const REPLICAS = 2;
/** Copies of each JetStream stream and bucket on the cluster. */
const JETSTREAM_REPLICAS = String(NATS_NODES);

interface ClusterPlan {
  readonly nats: readonly { client: number; route: number; monitor: number }[];
  readonly api: readonly number[];
  readonly console: readonly { port: number; healthPort: number }[];
  readonly balancer: { readonly api: number; readonly console: number };
}

const planFile = (stateDir: string): string => join(stateDir, 'cluster.json');

/** The ports of every part, planned on the first `up --cluster` and kept. */
async function clusterPlan(stateDir: string): Promise<ClusterPlan> {
  const file = planFile(stateDir);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ClusterPlan;
  const taken = new Set<number>();
  const port = async (preferred?: number): Promise<number> => {
    let chosen = preferred === undefined ? await freePort() : await preferredPort(preferred);
    while (taken.has(chosen)) chosen = await freePort();
    taken.add(chosen);
    return chosen;
  };
  const plan: ClusterPlan = {
    balancer: { api: await port(8774), console: await port(6080) },
    nats: await sequence(NATS_NODES, async (index) => ({
      client: await port(4222 + index),
      route: await port(),
      monitor: await port(),
    })),
    api: await sequence(REPLICAS, () => port()),
    console: await sequence(REPLICAS, async () => ({ port: await port(), healthPort: await port() })),
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`);
  return plan;
}

async function sequence<T>(count: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let index = 0; index < count; index += 1) made.push(await make(index));
  return made;
}

const natsName = (index: number): string => `nats-${index + 1}`;

/**
 * Three `nats-server` nodes routed to each other as one cluster, each with JetStream and the same
 * operator-mode accounts. All three are started before any is checked: JetStream answers only once a
 * quorum of the nodes has elected its leader.
 */
export const natsCluster: Part = {
  name: 'nats-cluster',
  async ensure({ stateDir, supervisor }) {
    const plan = await clusterPlan(stateDir);
    const dir = resolve(stateDir, 'nats');
    mkdirSync(dir, { recursive: true });
    const auth = await natsAuthFiles(dir);
    const urls = plan.nats.map((node) => `nats://127.0.0.1:${node.client}`);
    let started = false;
    for (const [index, ports] of plan.nats.entries()) {
      const name = natsName(index);
      const running = await supervisor.running(name);
      if (running) continue;
      const config = join(dir, `${name}.conf`);
      const routes = plan.nats
        .filter((_, other) => other !== index)
        .map((other) => `nats-route://127.0.0.1:${other.route}`);
      // Debian's nats-server 2.9 cannot fsync each JetStream write: the bus may lose acknowledged
      // messages on a crash, which is why nothing relies on it alone.
      writeFileSync(
        config,
        [
          `listen: 127.0.0.1:${ports.client}`,
          `http: 127.0.0.1:${ports.monitor}`,
          `server_name: nimbus-${index + 1}`,
          `jetstream { store_dir: ${JSON.stringify(join(dir, name, 'jetstream'))} }`,
          `cluster { name: nimbus, listen: 127.0.0.1:${ports.route}, routes: [${routes.join(', ')}] }`,
          ...operatorModeConfig(auth.accounts),
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      supervisor.start({
        name,
        argv: ['/usr/sbin/nats-server', '-c', config],
        details: { port: ports.client, url: urls[index] ?? '', creds: auth.credsFile },
      });
      started = true;
    }
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (const [index, url] of urls.entries()) {
      while (!(await natsHealthy(url, auth.credsFile))) {
        if (Date.now() > deadline)
          throw new Error(`${natsName(index)} (${url}) did not join the JetStream cluster`);
        await sleep(250);
      }
    }
    return {
      state: started ? 'started' : 'already running',
      detail: `${NATS_NODES} nodes ${urls.join(' ')}, JetStream with ${JETSTREAM_REPLICAS} replicas`,
      exports: {
        NATS_URL: urls.join(','),
        NATS_CREDS: auth.credsFile,
        NIMBUS_NATS_AUDIT_SIGNING_KEY_FILE: auth.signingKeyFile,
        NIMBUS_NATS_ACCOUNT: auth.accounts.account.publicKey,
        NIMBUS_JETSTREAM_REPLICAS: JETSTREAM_REPLICAS,
      },
    };
  },
  async healthy(stateDir, supervisor) {
    for (let index = 0; index < NATS_NODES; index += 1) {
      const record = await supervisor.running(natsName(index));
      if (!record || !(await natsHealthy(detail(record, 'url'), detail(record, 'creds')))) return false;
    }
    return existsSync(planFile(stateDir));
  },
  async stop(_stateDir, supervisor) {
    const results: string[] = [];
    for (let index = NATS_NODES - 1; index >= 0; index -= 1) {
      const name = natsName(index);
      const record = (await supervisor.running(name)) ?? supervisor.records().find((r) => r.name === name);
      results.push(`${name} ${record ? await supervisor.stop(record) : 'not running'}`);
    }
    return results.join(', ');
  },
};

/** Where a replica of the API keeps what is its own: its read models and its metadata socket. */
const apiDataDir = (stateDir: string, index: number): string => join(stateDir, `api-${index + 1}`);
const apiMetadataSocket = (stateDir: string, index: number): string =>
  join(apiDataDir(stateDir, index), 'metadata.sock');

/**
 * haproxy in front of the API replicas (the API's usual port), of the console proxies (the console's)
 * and, with the rig, of the API replicas' metadata sockets (on the rig's metadata socket). Each backend
 * is checked every second and taken out of the rotation after two failed checks; a request that found
 * its backend dead is sent to the other one.
 */
export const balancer = processPart({
  name: 'balancer',
  async launch(context) {
    const plan = await clusterPlan(context.stateDir);
    const dir = join(context.stateDir, 'balancer');
    mkdirSync(dir, { recursive: true });
    const metadataSocket = context.env.NIMBUS_METADATA_SOCKET;
    if (metadataSocket) mkdirSync(dirname(metadataSocket), { recursive: true, mode: 0o755 });
    const check = 'check inter 1s fall 2 rise 1';
    const lines = [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      // Consoles are WebSockets that stay open as long as the user looks at them.
      '  timeout client 1h',
      '  timeout server 1h',
      '  timeout tunnel 1h',
      '  retries 2',
      '  option redispatch',
      'frontend api',
      `  bind 127.0.0.1:${plan.balancer.api}`,
      '  default_backend api',
      'backend api',
      '  option httpchk GET /v3',
      ...plan.api.map((port, index) => `  server api-${index + 1} 127.0.0.1:${port} ${check}`),
      'frontend console',
      `  bind 127.0.0.1:${plan.balancer.console}`,
      '  default_backend console',
      'backend console',
      '  option httpchk GET /healthz',
      ...plan.console.map(
        (ports, index) =>
          `  server console-${index + 1} 127.0.0.1:${ports.port} ${check} port ${ports.healthPort}`,
      ),
      ...(metadataSocket
        ? [
            'frontend metadata',
            `  bind unix@${metadataSocket} mode 600`,
            '  default_backend metadata',
            'backend metadata',
            ...plan.api.map(
              (_, index) =>
                `  server api-${index + 1} unix@${apiMetadataSocket(context.stateDir, index)} ${check}`,
            ),
          ]
        : []),
      '',
    ];
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(config, lines.join('\n'));
    const haproxy = await findTool(NETWORK_TOOLS.haproxy);
    return {
      name: 'balancer',
      argv: [haproxy, '-db', '-f', config],
      details: {
        apiUrl: `http://127.0.0.1:${plan.balancer.api}`,
        consoleUrl: `http://127.0.0.1:${plan.balancer.console}`,
        port: plan.balancer.api,
      },
    };
  },
  // Up once it listens: the backends come up behind it afterwards.
  healthy: (record) => listening(detail(record, 'apiUrl')),
  exports: (record) => ({ API_URL: detail(record, 'apiUrl'), CONSOLE_URL: detail(record, 'consoleUrl') }),
});

/** Whether anything answers HTTP at the URL, whatever the status (haproxy answers 503 with no backend). */
async function listening(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

const clusterEnv = (context: PartContext): Record<string, string> => ({
  NIMBUS_JETSTREAM_REPLICAS: context.env.NIMBUS_JETSTREAM_REPLICAS ?? JETSTREAM_REPLICAS,
});

/** The replicas of the API: each its own read models and metadata socket; tokens and images shared. */
export const apiReplicas: readonly Part[] = Array.from({ length: REPLICAS }, (_, index) =>
  processPart({
    name: `api-${index + 1}`,
    async launch(context) {
      const plan = await clusterPlan(context.stateDir);
      const port = plan.api[index] ?? 0;
      const own = `http://127.0.0.1:${port}`;
      const env = apiEnvironment(context, port);
      return {
        name: `api-${index + 1}`,
        argv: node(context, 'api'),
        env: {
          ...env,
          ...clusterEnv(context),
          NIMBUS_API_DATA_DIR: apiDataDir(context.stateDir, index),
          NIMBUS_API_IMAGE_DIR: join(context.stateDir, 'api-images'),
          NIMBUS_API_TOKEN_SECRET: context.secrets.tokenSecret,
          // The catalog, links and Location headers name the balancer, which clients reach.
          NIMBUS_API_URL: context.env.API_URL ?? own,
          ...(env.NIMBUS_API_METADATA_SOCKET
            ? { NIMBUS_API_METADATA_SOCKET: apiMetadataSocket(context.stateDir, index) }
            : {}),
        },
        details: { port, url: own, balanced: context.env.API_URL ?? own },
      };
    },
    // The last replica waits for the balancer too: what comes next reaches the API through it.
    healthy: async (record) =>
      (await httpOk(`${detail(record, 'url')}/v3`)) &&
      (index < REPLICAS - 1 || (await httpOk(`${detail(record, 'balanced')}/v3`))),
    exports: () => ({}),
  }),
);

/**
 * Replicas of a service that serves no port but its health endpoint, `<app>-<n>`: each under that
 * name as its id (the relay's and the hosts' leases tell the replicas apart by it).
 */
function workerReplicas(
  app: 'scheduler' | 'compute',
  environment: (context: PartContext, healthPort: number, id: string) => NodeJS.ProcessEnv,
  details: (context: PartContext) => Record<string, string | number> = () => ({}),
): Part[] {
  return Array.from({ length: REPLICAS }, (_, index) =>
    processPart({
      name: `${app}-${index + 1}`,
      async launch(context) {
        const healthPort = await freePort();
        return {
          name: `${app}-${index + 1}`,
          argv: node(context, app),
          env: { ...environment(context, healthPort, `${app}-${index + 1}`), ...clusterEnv(context) },
          details: { healthPort, ...details(context) },
        };
      },
      healthy: (record) => httpOk(`http://127.0.0.1:${detail(record, 'healthPort')}/healthz`),
      exports: () => ({}),
    }),
  );
}

/** Two schedulers: both decide (a decision is one append, so one wins), one relays (by lease). */
export const schedulerReplicas: readonly Part[] = workerReplicas('scheduler', (context, healthPort, id) => ({
  ...schedulerEnvironment(context, healthPort),
  NIMBUS_SCHEDULER_ID: id,
}));

/** Two console proxies behind the balancer: a console URL names the balancer, either proxy serves it. */
export const consoleProxyReplicas: readonly Part[] = Array.from({ length: REPLICAS }, (_, index) =>
  processPart({
    name: `console-proxy-${index + 1}`,
    async launch(context) {
      const plan = await clusterPlan(context.stateDir);
      const ports = plan.console[index] ?? { port: 0, healthPort: 0 };
      const balanced = context.env.CONSOLE_URL ?? '';
      return {
        name: `console-proxy-${index + 1}`,
        argv: node(context, 'console-proxy'),
        env: consoleProxyEnvironment(context, ports, balanced),
        details: { healthPort: ports.healthPort, frameAncestors: context.env.DASHBOARD_URL ?? '' },
      };
    },
    current: (record, context) => record.details['frameAncestors'] === (context.env.DASHBOARD_URL ?? ''),
    healthy: (record) => httpOk(`http://127.0.0.1:${detail(record, 'healthPort')}/healthz`),
    exports: () => ({}),
  }),
);

/** Two compute agents sharing the rig's hosts: each host is driven by the one holding its lease. */
export const computeReplicas: readonly Part[] = workerReplicas(
  'compute',
  (context, healthPort, id) => ({ ...computeEnvironment(context, healthPort), NIMBUS_COMPUTE_AGENT_ID: id }),
  ({ options }) => ({ driver: options.driver, hosts: options.hosts, cluster: 'yes' }),
);
