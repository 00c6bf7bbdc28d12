/**
 * The Kubernetes manifests: every object valid against the Kubernetes API's schema (no unknown
 * field), every container's environment accepted by its app's own configuration, and the probes,
 * Services, inventory and connection strings wired to what the apps actually listen on and read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ApiConfig } from '../../apps/api/src/config/api.config.js';
import { ComputeConfig } from '../../apps/compute/src/config.js';
import {
  hostConfigsFromInventory,
  type HostInventoryFile,
} from '../../apps/compute/src/hypervisor/libvirt/host-config.js';
import { ConsoleProxyConfig } from '../../apps/console-proxy/src/config.js';
import { SchedulerConfig } from '../../apps/scheduler/src/config.js';
import { loadConfig, optionsOf } from '#libs/config';
import { sshEndpointsFromInventory } from '#libs/host-ssh';

import {
  MANIFESTS_DIR,
  readKustomization,
  readManifests,
  schemaProblems,
  type Manifest,
} from './manifests.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { key: string }; fieldRef?: { fieldPath: string } };
}
interface Port {
  name: string;
  containerPort: number;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  command: string[];
  ports?: Port[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface Workload {
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
}

const CONFIGS = {
  api: { Config: ApiConfig, prefix: 'NIMBUS_API_' },
  scheduler: { Config: SchedulerConfig, prefix: 'NIMBUS_SCHEDULER_' },
  compute: { Config: ComputeConfig, prefix: 'NIMBUS_COMPUTE_' },
  'console-proxy': { Config: ConsoleProxyConfig, prefix: 'NIMBUS_CONSOLE_' },
} as const;
type App = keyof typeof CONFIGS;

const manifests = readManifests();
const kustomization = readKustomization();
const sharedConfig = Object.fromEntries(
  kustomization.configMapGenerator
    .find((generator) => generator.name === 'nimbus-config')!
    .literals.map((literal) => [
      literal.slice(0, literal.indexOf('=')),
      literal.slice(literal.indexOf('=') + 1),
    ]),
);
const workloads = manifests.filter((manifest) =>
  ['Deployment', 'StatefulSet'].includes(manifest.object.kind),
);
const containers = workloads.flatMap((manifest) =>
  (manifest.object as unknown as Workload).spec.template.spec.containers.map((container) => ({
    workload: manifest.object as unknown as Workload,
    container,
    app: /^dist\/apps\/([a-z-]+)\/src\/main\.js$/.exec(container.command.at(-1) ?? '')?.[1] as App,
  })),
);
const byKind = (kind: string): Manifest[] => manifests.filter((manifest) => manifest.object.kind === kind);

/** The environment Kubernetes would give the container; secrets and the pod's name stand in. */
function environmentOf(workload: Workload, container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? [])
    if (source.configMapRef?.name === 'nimbus-config') Object.assign(env, sharedConfig);
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.secretKeyRef)
      env[variable.name] = `a-secret-of-40-characters-for-${variable.valueFrom.secretKeyRef.key}`.padEnd(
        40,
        '-',
      );
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name')
      env[variable.name] = `${workload.metadata.name}-0`;
    else throw new Error(`${container.name}: ${variable.name} comes from nowhere this check knows`);
  }
  return env;
}

describe('the Kubernetes manifests', () => {
  it('list every kind of part, each object valid against the Kubernetes API schema', () => {
    expect(manifests.map(({ object }) => `${object.kind}/${object.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'Deployment/nimbus-api',
        'StatefulSet/nimbus-scheduler',
        'StatefulSet/nimbus-compute',
        'Deployment/nimbus-console-proxy',
        'KurrentDB/nimbus-store',
      ]),
    );
    expect(manifests.flatMap(schemaProblems)).toEqual([]);
  });

  it('would catch a misspelt field, a wrong type and a missing requirement', () => {
    const api = manifests.find(
      ({ object }) => object.metadata.name === 'nimbus-api' && object.kind === 'Deployment',
    )!;
    const broken = structuredClone(api.object) as unknown as Workload & { spec: { replicas: unknown } };
    const container = broken.spec.template.spec.containers[0]! as Container & Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    broken.spec.replicas = 'two';
    expect(schemaProblems({ file: api.file, object: broken as unknown as Manifest['object'] })).toEqual([
      expect.stringContaining('spec/replicas must be integer'),
      expect.stringMatching(/unknown field spec\.template\.spec\.containers\[0\]\.readinesProbe$/),
    ]);

    const store = byKind('KurrentDB')[0]!;
    const spec = structuredClone(store.object.spec) as Record<string, Record<string, unknown>>;
    spec.replicas = 2 as never;
    spec.storage!.storageClass = 'fast';
    expect(schemaProblems({ file: store.file, object: { ...store.object, spec } })).toEqual([
      expect.stringContaining('spec.replicas must be 1, 3 or 5'),
      expect.stringContaining('unknown field spec.storage.storageClass'),
    ]);
  });

  it("give every container an environment its app's configuration accepts, naming only options it declares", () => {
    expect(containers.map(({ app }) => app).sort()).toEqual(['api', 'compute', 'console-proxy', 'scheduler']);
    for (const { workload, container, app } of containers) {
      const { Config, prefix } = CONFIGS[app];
      const env = environmentOf(workload, container);
      expect(() => loadConfig(Config as new () => object, env)).not.toThrow();
      const declared = new Set(optionsOf(Config as new () => object).map((option) => option.env));
      const own = (container.env ?? []).map((variable) => variable.name);
      // Shared settings outside the app's own prefix are checked below, once for all apps.
      const shared = Object.keys(sharedConfig).filter((name) => name.startsWith(prefix));
      expect([...own, ...shared].filter((name) => !declared.has(name))).toEqual([]);
    }
    // Each shared setting is read by some app.
    const everyDeclared = new Set(
      Object.values(CONFIGS).flatMap(({ Config }) =>
        optionsOf(Config as new () => object).map((option) => option.env),
      ),
    );
    expect(Object.keys(sharedConfig).filter((name) => !everyDeclared.has(name))).toEqual([]);
  });

  it('probe what each app serves, on the port and address it binds', () => {
    for (const { workload, container, app } of containers) {
      const env = environmentOf(workload, container);
      const ports = new Map((container.ports ?? []).map((port) => [port.name, port.containerPort]));
      const probes = [container.startupProbe, container.readinessProbe, container.livenessProbe].filter(
        (probe): probe is Probe => probe !== undefined,
      );
      expect(probes.length).toBeGreaterThanOrEqual(2);
      expect(container.readinessProbe?.httpGet).toBeDefined();
      for (const { httpGet, tcpSocket } of probes) {
        if (tcpSocket) {
          expect(ports.has(String(tcpSocket.port))).toBe(true);
          continue;
        }
        expect(ports.has(String(httpGet?.port))).toBe(true);
        const port = ports.get(String(httpGet!.port));
        if (app === 'api') {
          expect(httpGet!.path).toBe('/v3');
          expect([env.NIMBUS_API_HOST, env.NIMBUS_API_PORT]).toEqual(['0.0.0.0', String(port)]);
        } else {
          expect(httpGet!.path).toBe('/healthz');
          const { prefix } = CONFIGS[app];
          expect([env[`${prefix}HEALTH_HOST`], env[`${prefix}HEALTH_PORT`]]).toEqual([
            '0.0.0.0',
            String(port),
          ]);
        }
      }
    }
  });

  it('route each Service to a named port of the pods it selects', () => {
    for (const { object } of byKind('Service')) {
      const spec = object.spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
      const selected = containers.filter(({ workload }) =>
        Object.entries(spec.selector).every(
          ([label, value]) => workload.spec.template.metadata.labels[label] === value,
        ),
      );
      expect(selected.length).toBe(1);
      const names = (selected[0]!.container.ports ?? []).map((port) => port.name);
      for (const port of spec.ports) expect(names).toContain(port.targetPort);
    }
    for (const { workload } of containers)
      expect(workload.spec.template.metadata.labels).toEqual(
        expect.objectContaining(workload.spec.selector.matchLabels),
      );
  });

  it('reach the store by gossip on the KurrentDB cluster, writing to its leader, and NATS on its chart Service', () => {
    const store = byKind('KurrentDB')[0]!.object;
    const url = new URL(sharedConfig.EVENTSTORE_URL!);
    expect(url.protocol).toBe('esdb+discover:');
    expect(url.hostname).toBe(`${store.metadata.name}.${kustomization.namespace}.svc.cluster.local`);
    expect(url.searchParams.get('nodePreference')).toBe('leader');
    // No TLS in the connection string exactly when the cluster is made without certificates.
    expect(url.searchParams.get('tls')).toBe(
      (store.spec as { security?: unknown }).security === undefined ? 'false' : null,
    );
    expect(new URL(sharedConfig.NATS_URL!).hostname).toBe('nats.nimbus.svc.cluster.local');
    expect(sharedConfig.NIMBUS_JETSTREAM_REPLICAS).toBe('3');
  });

  it('come with an inventory of one sshd per host that the agents and the proxy both accept, keyed where the Secret is mounted', () => {
    const inventory = JSON.parse(
      readFileSync(join(MANIFESTS_DIR, 'inventory.example.json'), 'utf8'),
    ) as HostInventoryFile;
    expect(hostConfigsFromInventory(inventory).map((host) => host.sshAddress)).toEqual([
      'hv-1.example.org',
      'hv-2.example.org',
    ]);
    expect(sshEndpointsFromInventory(inventory)).toHaveLength(2);
    for (const { workload, container, app } of containers.filter(
      ({ app }) => app === 'compute' || app === 'console-proxy',
    )) {
      const env = environmentOf(workload, container);
      const mounts = (container.volumeMounts ?? []).map((mount) => mount.mountPath);
      expect(mounts).toContain(join(inventory.privateKeyPath, '..'));
      expect(mounts).toContain(
        join(env[app === 'compute' ? 'NIMBUS_COMPUTE_INVENTORY' : 'NIMBUS_CONSOLE_INVENTORY']!, '..'),
      );
    }
  });
});
