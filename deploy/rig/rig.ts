// The local hypervisor rig: N hypervisor "hosts" on this one machine, each a Unix user with its own
// `qemu:///session` libvirt, reached through one project-owned sshd on a loopback port with key
// authentication and a pinned host key; and the teardown that leaves none of it running.
// Used by the `up` command, integration tests and benchmarks; the compute agent reads the inventory.
// It must never touch the machine's own sshd or libvirt, or a user or process that is not this
// rig's, and it must never print or return private key material (only the key's path).

import { mkdir, realpath, rm } from 'node:fs/promises';

import { buildBootImage } from './boot-image.js';
import { buildGuestImage } from './guest-image.js';
import { findTool, findTools, TOOLS } from './exec.js';
import { readIfExists, writeFileAtomic } from './files.js';
import { ensureRigNetwork, findNetworkTools, NETWORK_TOOLS, removeRigNetwork } from './host-network.js';
import {
  readManifest,
  rigPaths,
  writeJson,
  type RigHost,
  type RigInventory,
  type RigManifest,
  type RigPaths,
} from './inventory.js';
import { destroyAllDomains, LIBVIRT_URI } from './libvirt-session.js';
import {
  defaultNamePrefix,
  hostUserNames,
  RigConfigError,
  validateHostCount,
  validateNamePrefix,
  validatePort,
} from './naming.js';
import { descendantsOf, listProcesses, terminate, terminateUser } from './processes.js';
import {
  authorizedKeysFile,
  knownHostsLine,
  renderSshdConfig,
  sha256Fingerprint,
  SSH_HOST,
} from './ssh-files.js';
import {
  checkSshdConfig,
  ensureKeyPair,
  pickFreePort,
  PortInUseError,
  runningSshd,
  startSshd,
  stopSshd,
} from './sshd.js';
import {
  emptyInstancesDir,
  ensureHostUser,
  hostDirs,
  lookupUser,
  owningStateDir,
  removeHostUser,
  type HostUser,
} from './users.js';

export type { RigHost, RigInventory, RigPaths } from './inventory.js';
export { parseInventory, readInventory, rigPaths } from './inventory.js';
export { BOOT_BANNER } from './boot-image.js';
export { RigConfigError } from './naming.js';

export interface CreateRigOptions {
  /** Everything the rig owns outside the host users' homes lives here; created if missing. */
  readonly stateDir: string;
  /** How many hypervisor hosts (1 to 64). */
  readonly hosts: number;
  /** 0 or absent: keep the rig's previous port if it has one, else any free loopback port. */
  readonly sshPort?: number;
  /** Users are `nimbus-<namePrefix>-h<n>`; by default the prefix is derived from stateDir. */
  readonly namePrefix?: string;
  /** Progress lines, for a CLI; silent by default. */
  readonly log?: (line: string) => void;
}

export interface DestroyRigOptions {
  /** Also delete the host users and their homes (image caches included). */
  readonly removeUsers?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Makes the rig, or brings an existing one in `stateDir` up to date: keys, users and a running sshd
 * are reused; sshd is restarted only when it is not running or its config changed. If it throws,
 * what it made so far is recorded in stateDir, and destroyRig removes it.
 */
export async function createRig(options: CreateRigOptions): Promise<RigInventory> {
  assertRoot();
  const log = options.log ?? (() => undefined);
  const hosts = validateHostCount(options.hosts);
  const requestedPort = validatePort(options.sshPort ?? 0);
  const tools = await findTools();
  const paths = await prepareStateDir(options.stateDir);
  const previous = await readManifest(paths.manifest);
  const namePrefix = choosePrefix(options.namePrefix, previous, paths.stateDir);
  let manifest: RigManifest = previous ?? { version: 1, namePrefix, users: [] };

  const hostPublicKey = await ensureKeyPair(tools.sshKeygen, paths.hostKey, 'nimbus-rig-host');
  const clientPublicKey = await ensureKeyPair(tools.sshKeygen, paths.clientKey, 'nimbus-rig-client');
  const bootImagePath = await buildBootImage(tools, paths.imagesDir);
  log(`boot image ${bootImagePath}`);
  const guestImagePath = await buildGuestImage(paths.imagesDir);
  log(`guest image ${guestImagePath}`);

  const users: HostUser[] = [];
  for (const name of hostUserNames(namePrefix, hosts)) {
    await assertMayClaim(tools.getent, name, paths.stateDir, manifest.users);
    // Recorded before useradd runs, so a create that dies half way is still torn down.
    manifest = { ...manifest, users: [...new Set([...manifest.users, name])] };
    await writeJson(paths.manifest, manifest);
    users.push(await ensureHostUser(tools, name, paths.stateDir, authorizedKeysFile(clientPublicKey)));
    log(`host ${name} ready`);
  }
  const network = await ensureRigNetwork(
    await findNetworkTools(),
    paths.stateDir,
    namePrefix,
    users.map((user) => user.name),
  );
  log(`guest network namespace ${network.netns}`);

  const sshPort = await ensureSshd(tools.sshd, paths, {
    allowUsers: users.map((user) => user.name),
    requestedPort,
    previousPort: previous?.sshPort,
    log,
  });
  await writeJson(paths.manifest, { ...manifest, sshPort });

  const pin = knownHostsLine(hostPublicKey, sshPort);
  await writeFileAtomic(paths.knownHosts, `${pin}\n`);
  const inventory: RigInventory = {
    sshHost: SSH_HOST,
    sshPort,
    knownHostsLine: pin,
    hostKeyFingerprint: sha256Fingerprint(hostPublicKey),
    privateKeyPath: paths.clientKey,
    hosts: users.map(hostEntry),
    bootImagePath,
    guestImagePath,
    network,
  };
  await writeJson(paths.inventory, inventory);
  return inventory;
}

/**
 * Stops and removes everything the rig in `stateDir` runs: its sshd and the connections it serves,
 * every domain of its users (destroyed and undefined), every process of those users (the libvirt
 * session daemons above all), and their instance files. Safe to call again, and on a rig that
 * failed half way. Every step is tried even when an earlier one fails; the failures are thrown
 * together at the end.
 */
export async function destroyRig(stateDir: string, options: DestroyRigOptions = {}): Promise<void> {
  assertRoot();
  const log = options.log ?? (() => undefined);
  const realStateDir = await realpath(stateDir).catch(() => undefined);
  if (realStateDir === undefined) return;
  const paths = rigPaths(realStateDir);
  const manifest = await readManifest(paths.manifest);
  const failures: Error[] = [];
  const attempt = async (what: string, action: () => Promise<void>) => {
    try {
      await action();
    } catch (error) {
      failures.push(new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`));
    }
  };

  // First, so no new session can start on a host while it is being emptied.
  await attempt('stopping sshd', () => stopSshd(paths, { sessions: true }));
  await rm(paths.inventory, { force: true });
  if (manifest) {
    const tools = {
      getent: await findTool(TOOLS.getent),
      virsh: await findTool(TOOLS.virsh),
      userdel: await findTool(TOOLS.userdel),
    };
    await forEachLimited(manifest.users, 4, (name) =>
      attempt(`tearing down ${name}`, () =>
        teardownHost(tools, name, realStateDir, options.removeUsers ?? false, log),
      ),
    );
    // After the domains: a guest still running would hold its tap.
    await attempt('removing the guest network', async () =>
      removeRigNetwork(await findTool(NETWORK_TOOLS.ip), realStateDir, manifest.namePrefix),
    );
  }
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `destroyRig(${stateDir}) left work undone:\n  ${failures.map((f) => f.message).join('\n  ')}`,
    );
  }
  // The manifest only lists users, and they are gone: forget them, keep the keys for the next rig.
  if (options.removeUsers) await rm(paths.manifest, { force: true });
  log(`rig at ${realStateDir} is down`);
}

async function teardownHost(
  tools: { getent: string; virsh: string; userdel: string },
  name: string,
  stateDir: string,
  removeUser: boolean,
  log: (line: string) => void,
): Promise<void> {
  const user = await lookupUser(tools.getent, name);
  if (!user) return;
  const owner = await owningStateDir(user);
  if (owner !== undefined && owner !== stateDir) {
    log(`leaving ${name} alone: it now belongs to the rig at ${owner}`);
    return;
  }
  try {
    const domains = await destroyAllDomains(tools.virsh, user);
    if (domains.length > 0) log(`${name}: destroyed and undefined ${domains.length} domain(s)`);
  } finally {
    // Even when virsh failed. This also ends the session daemons (libvirtd, virtlogd) that virsh
    // autostarted, which would otherwise linger for two minutes, and any guest left behind.
    await terminateUser(user.uid);
    await emptyInstancesDir(user);
    if (removeUser) {
      await removeHostUser(tools.userdel, user, stateDir);
      log(`${name}: user and home removed`);
    }
  }
}

interface SshdPlan {
  readonly allowUsers: readonly string[];
  readonly requestedPort: number;
  readonly previousPort: number | undefined;
  readonly log: (line: string) => void;
}

/** Leaves a matching sshd running, or (re)starts one; returns its port. */
async function ensureSshd(sshd: string, paths: RigPaths, plan: SshdPlan): Promise<number> {
  const running = await runningSshd(paths);
  // Only an automatically chosen port may be swapped for another when it turns out to be taken.
  const maxAttempts = plan.requestedPort === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt += 1) {
    const port = plan.requestedPort || (attempt === 1 && plan.previousPort) || (await pickFreePort());
    const config = renderSshdConfig({
      port,
      hostKeyPath: paths.hostKey,
      pidFilePath: paths.sshdPid,
      allowUsers: plan.allowUsers,
    });
    if (running !== undefined && (await readIfExists(paths.sshdConfig)) === config) {
      plan.log(`sshd already running on ${SSH_HOST}:${port} (pid ${running})`);
      return port;
    }
    await stopSshd(paths, { sessions: false });
    await writeFileAtomic(paths.sshdConfig, config, 0o600);
    await checkSshdConfig(sshd, paths);
    try {
      const pid = await startSshd(sshd, paths, port);
      plan.log(`sshd listening on ${SSH_HOST}:${port} (pid ${pid})`);
      return port;
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= maxAttempts) throw error;
      plan.log(`${error.message}; trying another port`);
    }
  }
}

function hostEntry(user: HostUser): RigHost {
  return {
    name: user.name,
    user: user.name,
    libvirtUri: LIBVIRT_URI,
    home: user.home,
    ...hostDirs(user.home),
    availabilityZone: 'nova',
    cpuArch: 'x86_64',
    hypervisorType: 'qemu',
  };
}

/** Creates the state folder (root only: it holds the client's private key) and returns its paths. */
async function prepareStateDir(stateDir: string): Promise<RigPaths> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const paths = rigPaths(await realpath(stateDir));
  await mkdir(paths.sshDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.imagesDir, { recursive: true, mode: 0o755 });
  return paths;
}

function choosePrefix(
  requested: string | undefined,
  previous: RigManifest | undefined,
  stateDir: string,
): string {
  if (requested !== undefined) validateNamePrefix(requested);
  if (previous && requested !== undefined && requested !== previous.namePrefix) {
    throw new RigConfigError(
      `${stateDir} holds a rig named '${previous.namePrefix}', not '${requested}'; ` +
        'destroy it with removeUsers (down --remove-users) or use another stateDir',
    );
  }
  return requested ?? previous?.namePrefix ?? defaultNamePrefix(stateDir);
}

/** A user may be (re)used only if it does not exist yet or is this rig's own. */
async function assertMayClaim(
  getent: string,
  name: string,
  stateDir: string,
  recordedUsers: readonly string[],
): Promise<void> {
  const existing = await lookupUser(getent, name);
  if (!existing) return;
  const owner = await owningStateDir(existing);
  if (owner === stateDir) return;
  // Created by this rig, which then stopped before it wrote the home's marker.
  if (owner === undefined && recordedUsers.includes(name)) return;
  throw new RigConfigError(
    `user ${name} already exists and ${owner ? `belongs to the rig at ${owner}` : 'is not a rig host'}; ` +
      'pick another namePrefix or stateDir',
  );
}

function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new RigConfigError('the rig creates Unix users and runs sshd: it must run as root');
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, action: (item: T) => Promise<void>) {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await action(item);
  });
  await Promise.all(workers);
}

/**
 * Ends every SSH connection the rig's sshd is serving, leaving sshd listening: what a flaky
 * network does to a compute agent mid-operation. For fault tests.
 */
export async function dropSshSessions(stateDir: string): Promise<number> {
  const paths = rigPaths(await realpath(stateDir));
  const pid = await runningSshd(paths);
  if (pid === undefined) return 0;
  const sessions = descendantsOf(pid, await listProcesses());
  await terminate(sessions);
  return sessions.length;
}

/**
 * Stops what the rig runs without removing anything: its sshd (and the sessions it serves) and
 * every process of its host users, the qemu guests and libvirt session daemons among them. Domain
 * definitions, disks and users stay, so the next start finds the guests shut off, as after a
 * host reboot. The guest network namespace goes too (the guests' taps with it); createRig makes it
 * anew. What `npm run down` does to the rig; destroyRig is what removes it.
 */
export async function stopRig(stateDir: string): Promise<void> {
  const realStateDir = await realpath(stateDir).catch(() => undefined);
  if (realStateDir === undefined) return;
  const paths = rigPaths(realStateDir);
  await stopSshd(paths, { sessions: true });
  const manifest = await readManifest(paths.manifest);
  if (!manifest) return;
  const getent = await findTool(TOOLS.getent);
  for (const name of manifest.users) {
    const user = await lookupUser(getent, name);
    if (user) await terminateUser(user.uid);
  }
  // With every guest gone, nothing holds a tap: the next createRig makes the network anew.
  await removeRigNetwork(await findTool(NETWORK_TOOLS.ip), realStateDir, manifest.namePrefix);
}

/** Whether the rig in `stateDir` has its sshd running. */
export async function sshdRunning(stateDir: string): Promise<boolean> {
  const realStateDir = await realpath(stateDir).catch(() => undefined);
  return realStateDir !== undefined && (await runningSshd(rigPaths(realStateDir))) !== undefined;
}
