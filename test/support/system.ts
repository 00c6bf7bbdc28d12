/**
 * The whole system as separate processes, the way it runs for real: the embedded event store,
 * nats-server, the scheduler, a compute agent serving a rig of real libvirt hosts over SSH (or, for
 * scale, the named fake driver), and optionally the API and the console proxy. For end-to-end and fault
 * tests and for benchmarks. `stop()` ends every process and destroys every domain and rig user.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { type NatsAccounts, createNatsAccounts, operatorModeConfig } from '#libs/bus';
import { EventStore } from '#libs/event-store';

import { tinyQcow2 } from '../../apps/compute/src/hypervisor/testing/images.js';
import { type RigInventory, createRig, destroyRig } from '../../deploy/rig/rig.js';
import { type EventStoreProcess, startEventStoreProcess } from './event-store-process.js';
import { type ManagedProcess, listeningPort, startManagedProcess } from './managed-process.js';
import { type NatsProcess, startNatsProcess } from './nats-process.js';

export interface SystemOptions {
  /** Real hypervisor hosts: Unix users with their own libvirt behind the rig's sshd. */
  readonly rigHosts?: number;
  /** Simulated hosts of the fake driver, instead of a rig. */
  readonly fakeHosts?: number;
  readonly computeEnv?: Readonly<Record<string, string>>;
  readonly schedulerEnv?: Readonly<Record<string, string>>;
  /** Start the API too; the compute agent then fetches images from it. */
  readonly api?: boolean;
  readonly apiEnv?: Readonly<Record<string, string>>;
  /** Start the console proxy on the rig's inventory; compute then builds console URLs to it. */
  readonly consoleProxy?: boolean;
  readonly consoleProxyEnv?: Readonly<Record<string, string>>;
  /**
   * Run NATS in operator mode, as `npm run up` does: every service connects with the service user's
   * creds, and the API mints audit subscribers' credentials with the account's signing key.
   */
  readonly natsAuth?: boolean;
}

export const ADMIN_PASSWORD = 'nimbus-e2e-admin';
const SERVICE_PASSWORD = 'nimbus-e2e-service';

export interface NimbusSystem {
  readonly eventStore: EventStoreProcess;
  readonly nats: NatsProcess;
  /** The operator, accounts and keys NATS runs with (natsAuth), else null. */
  readonly natsAccounts: NatsAccounts | null;
  readonly scheduler: ManagedProcess;
  readonly compute: ManagedProcess;
  /** The compute agent's environment, for a test that starts more agents on the same hosts. */
  readonly computeEnv: Readonly<Record<string, string>>;
  /** The scheduler's environment, for a test that starts more schedulers. */
  readonly schedulerEnv: Readonly<Record<string, string>>;
  readonly api: ManagedProcess | null;
  /** `http://127.0.0.1:<port>` when the API runs. */
  readonly apiUrl: string | null;
  readonly consoleProxy: ManagedProcess | null;
  /** `http://127.0.0.1:<port>` when the console proxy runs: its base URL and only allowed origin. */
  readonly consoleProxyUrl: string | null;
  readonly rig: RigInventory | null;
  /** The rig's state folder (for dropSshSessions and friends). */
  readonly rigDir: string;
  /** The image id the boot image is known by to the compute agent. */
  readonly bootImageId: string;
  readonly client: EventStoreDBClient;
  readonly store: EventStore;
  stop(): Promise<void>;
}

const app = (name: string): string => join(process.cwd(), `dist/apps/${name}/src/main.js`);

/**
 * Starts one of the apps. `portVariable` names the option of the port it serves on: it is 0 on the
 * first start and the port it took on a restart, so clients find it where it was.
 */
export function startApp(
  name: string,
  env: Readonly<Record<string, string>>,
  startTimeoutMs = 60_000,
  portVariable?: string,
): Promise<ManagedProcess> {
  return startManagedProcess({
    name,
    argv: () => [process.execPath, app(name)],
    env: (port) => ({
      ...process.env,
      ...env,
      ...(portVariable && port !== 0 ? { [portVariable]: String(port) } : {}),
    }),
    ready: listeningPort,
    startTimeoutMs,
  });
}

export async function startSystem(options: SystemOptions): Promise<NimbusSystem> {
  const stateDir = mkdtempSync(join(tmpdir(), 'nimbus-system-'));
  const started: { stop(): Promise<void> }[] = [];
  let rig: RigInventory | null = null;
  const rigDir = join(stateDir, 'rig');
  try {
    const eventStore = await startEventStoreProcess();
    started.push(eventStore);
    const natsAccounts = options.natsAuth ? await createNatsAccounts() : null;
    const nats = await startNatsProcess(
      natsAccounts ? { configLines: operatorModeConfig(natsAccounts) } : {},
    );
    started.push(nats);
    // What every service's environment needs to reach this NATS (and the API, to mint audit users).
    const natsEnv: Record<string, string> = { NATS_URL: nats.url };
    const auditEnv: Record<string, string> = {};
    if (natsAccounts) {
      natsEnv.NATS_CREDS = join(stateDir, 'nimbus-services.creds');
      writeFileSync(natsEnv.NATS_CREDS, natsAccounts.serviceCreds, { mode: 0o600 });
      auditEnv.NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE = join(stateDir, 'audit-signing.seed');
      writeFileSync(auditEnv.NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE, natsAccounts.signingSeed, {
        mode: 0o600,
      });
      auditEnv.NIMBUS_API_AUDIT_NATS_ACCOUNT = natsAccounts.account.publicKey;
    }
    const bootImageId = randomUUID();
    const imageDir = join(stateDir, 'images');
    const computeEnv: Record<string, string> = {
      EVENTSTORE_URL: eventStore.connectionString,
      ...natsEnv,
      NIMBUS_COMPUTE_IMAGE_DIR: imageDir,
      NIMBUS_COMPUTE_IMAGE_CACHE_DIR: join(stateDir, 'image-cache'),
      NIMBUS_COMPUTE_HEARTBEAT_INTERVAL_MS: '500',
      NIMBUS_COMPUTE_POWER_OFF_TIMEOUT_MS: '1000',
      NIMBUS_COMPUTE_SYNC_INTERVAL_MS: '2000',
      NIMBUS_COMPUTE_RECONCILE_INTERVAL_MS: '1000',
      ...options.computeEnv,
    };
    if (options.fakeHosts) {
      Object.assign(computeEnv, {
        NIMBUS_COMPUTE_DRIVER: 'fake',
        NIMBUS_COMPUTE_FAKE_HOSTS: String(options.fakeHosts),
      });
    } else {
      rig = await createRig({
        stateDir: rigDir,
        hosts: options.rigHosts ?? 1,
        namePrefix: `s${randomUUID().slice(0, 5)}`,
      });
      started.push({ stop: () => destroyRig(rigDir, { removeUsers: true }) });
      computeEnv.NIMBUS_COMPUTE_INVENTORY = join(rigDir, 'inventory.json');
    }
    // The image every test boots: the rig's boot image, or for the fake driver a qcow2 header it accepts.
    mkdirSync(imageDir, { recursive: true });
    const bootImage = join(imageDir, `${bootImageId}.qcow2`);
    if (rig) copyFileSync(rig.bootImagePath, bootImage);
    else writeFileSync(bootImage, tinyQcow2());
    let api: ManagedProcess | null = null;
    let apiUrl: string | null = null;
    if (options.api) {
      api = await startApp(
        'api',
        {
          EVENTSTORE_URL: eventStore.connectionString,
          ...natsEnv,
          ...auditEnv,
          NIMBUS_API_PORT: '0',
          NIMBUS_API_DATA_DIR: join(stateDir, 'api'),
          NIMBUS_API_ADMIN_PASSWORD: ADMIN_PASSWORD,
          NIMBUS_API_SERVICE_PASSWORD: SERVICE_PASSWORD,
          NIMBUS_API_HEARTBEAT_TIMEOUT_MS: '5000',
          NIMBUS_API_SEED_IMAGE: bootImage,
          NIMBUS_API_SEED_IMAGE_FORMAT: 'qcow2',
          // Simulated hosts are of hypervisor type `fake`: an image asking for QEMU would fit none.
          ...(options.fakeHosts ? { NIMBUS_API_SEED_IMAGE_HYPERVISOR_TYPE: 'none' } : {}),
          // Guests on the rig's networks reach the metadata service through the rig's proxies.
          ...(rig ? { NIMBUS_API_METADATA_SOCKET: rig.network.metadataSocket } : {}),
          ...options.apiEnv,
        },
        60_000,
        'NIMBUS_API_PORT',
      );
      started.push(api);
      apiUrl = `http://127.0.0.1:${api.port}`;
      Object.assign(computeEnv, {
        NIMBUS_COMPUTE_IMAGE_API_URL: `${apiUrl}/image`,
        NIMBUS_COMPUTE_IDENTITY_URL: `${apiUrl}/v3`,
        NIMBUS_COMPUTE_SERVICE_PASSWORD: SERVICE_PASSWORD,
      });
    }
    let consoleProxy: ManagedProcess | null = null;
    let consoleProxyUrl: string | null = null;
    if (options.consoleProxy) {
      if (!rig) throw new Error('the console proxy tunnels to rig hosts: it needs a rig, not fake hosts');
      consoleProxy = await startApp(
        'console-proxy',
        {
          EVENTSTORE_URL: eventStore.connectionString,
          NIMBUS_CONSOLE_PORT: '0',
          NIMBUS_CONSOLE_INVENTORY: join(rigDir, 'inventory.json'),
          // Empty is unset: the base URL (and so the allowed origin) is the port it binds, whatever
          // the caller's environment says.
          NIMBUS_CONSOLE_BASE_URL: '',
          NIMBUS_CONSOLE_ALLOWED_ORIGINS: '',
          ...options.consoleProxyEnv,
        },
        60_000,
        'NIMBUS_CONSOLE_PORT',
      );
      started.push(consoleProxy);
      consoleProxyUrl = `http://127.0.0.1:${consoleProxy.port}`;
      computeEnv.NIMBUS_CONSOLE_BASE_URL = consoleProxyUrl;
    }
    const schedulerEnv: Record<string, string> = {
      EVENTSTORE_URL: eventStore.connectionString,
      ...natsEnv,
      NIMBUS_SCHEDULER_HEARTBEAT_TIMEOUT_MS: '5000',
      NIMBUS_SCHEDULER_RECONCILE_INTERVAL_MS: '1000',
      ...options.schedulerEnv,
    };
    const scheduler = await startApp('scheduler', schedulerEnv);
    started.push(scheduler);
    const compute = await startApp('compute', computeEnv);
    started.push(compute);
    const client = EventStoreDBClient.connectionString(eventStore.connectionString);
    return {
      eventStore,
      nats,
      natsAccounts,
      scheduler,
      compute,
      computeEnv,
      schedulerEnv,
      api,
      apiUrl,
      consoleProxy,
      consoleProxyUrl,
      rig,
      rigDir,
      bootImageId,
      client,
      store: new EventStore(client),
      async stop() {
        await client.dispose();
        // Every part is stopped even when one fails to, so no process outlives the suite.
        const failures: unknown[] = [];
        for (const part of started.reverse())
          await part.stop().catch((error: unknown) => failures.push(error));
        rmSync(stateDir, { recursive: true, force: true });
        if (failures.length > 0)
          throw new AggregateError(failures, 'parts of the system did not stop cleanly');
      },
    };
  } catch (error) {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}
