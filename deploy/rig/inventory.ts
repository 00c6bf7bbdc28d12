// What a rig tells its users (the inventory, read by the compute agent, tests and benchmarks) and
// what it remembers for itself (the manifest, read by destroyRig), and where both live in stateDir.
// The inventory must never hold secrets: it names the private key file, never its contents.

import path from 'node:path';

import { readIfExists, writeFileAtomic } from './files.js';
import type { RigNetwork } from './host-network.js';

/** One hypervisor host of the rig: a local Unix user with its own `qemu:///session` libvirt. */
export interface RigHost {
  /** The host's name for the scheduler and the API; the same as its Unix user, unique on the machine. */
  readonly name: string;
  /** Log in as this user to reach the host. */
  readonly user: string;
  readonly libvirtUri: 'qemu:///session';
  readonly home: string;
  /** Where the compute agent keeps base images (it copies them here over SFTP). Starts empty. */
  readonly imageCacheDir: string;
  /** Where overlays, domain XML and serial logs of instances go; destroyRig empties it. */
  readonly instancesDir: string;
  readonly availabilityZone: 'nova';
  readonly cpuArch: 'x86_64';
  readonly hypervisorType: 'qemu';
}

/** `<stateDir>/inventory.json`: everything needed to reach and use the rig's hosts. */
export interface RigInventory {
  readonly sshHost: '127.0.0.1';
  readonly sshPort: number;
  /** The pinned host key, as a known_hosts line for `[127.0.0.1]:<sshPort>`. */
  readonly knownHostsLine: string;
  /** `SHA256:...`, the form ssh2's hostVerifier and `ssh-keygen -l` give. */
  readonly hostKeyFingerprint: string;
  /** The client key every host accepts (mode 0600, owned by root). */
  readonly privateKeyPath: string;
  readonly hosts: readonly RigHost[];
  /** The project's boot image (qcow2), built from deploy/rig/boot-image/boot.asm. */
  readonly bootImagePath: string;
  /**
   * The project's Linux guest (qcow2), built from Debian's kernel and busybox with
   * deploy/rig/guest-image/init.sh: it takes its address by DHCP, reads the metadata service and says
   * both on its serial console.
   */
  readonly guestImagePath: string;
  /** The guest network: its namespace, and the helper the hosts run through sudo to wire NICs into it. */
  readonly network: RigNetwork;
}

/** `<stateDir>/rig.json`: the rig's own memory, so destroyRig finds everything even after a failed create. */
export interface RigManifest {
  readonly version: 1;
  readonly namePrefix: string;
  /** Every user this rig ever created, including ones a later, smaller createRig no longer serves. */
  readonly users: readonly string[];
  readonly sshPort?: number;
}

/** Every path the rig writes under its state folder. */
export function rigPaths(stateDir: string) {
  const ssh = path.join(stateDir, 'ssh');
  const images = path.join(stateDir, 'images');
  return {
    stateDir,
    manifest: path.join(stateDir, 'rig.json'),
    inventory: path.join(stateDir, 'inventory.json'),
    sshDir: ssh,
    sshdConfig: path.join(ssh, 'sshd_config'),
    sshdPid: path.join(ssh, 'sshd.pid'),
    sshdLog: path.join(ssh, 'sshd.log'),
    hostKey: path.join(ssh, 'host_ed25519_key'),
    clientKey: path.join(ssh, 'client_ed25519_key'),
    knownHosts: path.join(ssh, 'known_hosts'),
    imagesDir: images,
  };
}

export type RigPaths = ReturnType<typeof rigPaths>;

export async function readManifest(file: string): Promise<RigManifest | undefined> {
  const text = await readIfExists(file);
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as Partial<RigManifest>;
  if (value.version !== 1 || typeof value.namePrefix !== 'string' || !Array.isArray(value.users)) {
    throw new Error(`${file} is not a rig manifest this version understands`);
  }
  return value as RigManifest;
}

/** Reads and checks `<stateDir>/inventory.json`; a missing or malformed file is a loud error. */
export async function readInventory(stateDir: string): Promise<RigInventory> {
  const file = rigPaths(stateDir).inventory;
  const text = await readIfExists(file);
  if (text === undefined) throw new Error(`no rig inventory at ${file}: run createRig (or 'up') first`);
  return parseInventory(JSON.parse(text) as unknown, file);
}

/** Checks the shape of an inventory read back from disk. */
export function parseInventory(value: unknown, source = 'inventory'): RigInventory {
  const problems: string[] = [];
  const inv = (value ?? {}) as Record<string, unknown>;
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  expect(inv.sshHost === '127.0.0.1', 'sshHost must be 127.0.0.1');
  expect(isPort(inv.sshPort) && inv.sshPort !== 0, 'sshPort must be a port from 1 to 65535');
  expect(
    typeof inv.knownHostsLine === 'string' && inv.knownHostsLine.length > 0,
    'knownHostsLine is missing',
  );
  expect(
    typeof inv.hostKeyFingerprint === 'string' && inv.hostKeyFingerprint.startsWith('SHA256:'),
    'hostKeyFingerprint must start with SHA256:',
  );
  expect(isAbsolutePath(inv.privateKeyPath), 'privateKeyPath must be an absolute path');
  expect(isAbsolutePath(inv.bootImagePath), 'bootImagePath must be an absolute path');
  expect(isAbsolutePath(inv.guestImagePath), 'guestImagePath must be an absolute path');
  const network = (inv.network ?? {}) as Record<string, unknown>;
  expect(
    typeof network.netns === 'string' && /^nimbus-[a-z0-9-]+$/.test(network.netns),
    'network.netns must be the rig namespace name',
  );
  expect(isAbsolutePath(network.helperPath), 'network.helperPath must be an absolute path');
  expect(isAbsolutePath(network.metadataSocket), 'network.metadataSocket must be an absolute path');
  if (!Array.isArray(inv.hosts) || inv.hosts.length === 0) {
    problems.push('hosts must be a non-empty list');
  } else {
    inv.hosts.forEach((host: unknown, i) =>
      problems.push(...hostProblems(host).map((p) => `hosts[${i}].${p}`)),
    );
  }
  if (problems.length > 0) throw new Error(`${source} is not a valid rig inventory: ${problems.join('; ')}`);
  return value as RigInventory;
}

function hostProblems(value: unknown): string[] {
  const host = (value ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['name', 'user'] as const) {
    if (typeof host[key] !== 'string' || host[key] === '') problems.push(`${key} is missing`);
  }
  for (const key of ['home', 'imageCacheDir', 'instancesDir'] as const) {
    if (!isAbsolutePath(host[key])) problems.push(`${key} must be an absolute path`);
  }
  const fixed = {
    libvirtUri: 'qemu:///session',
    availabilityZone: 'nova',
    cpuArch: 'x86_64',
    hypervisorType: 'qemu',
  };
  for (const [key, expected] of Object.entries(fixed)) {
    if (host[key] !== expected) problems.push(`${key} must be ${expected}`);
  }
  return problems;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535;
}

function isAbsolutePath(value: unknown): boolean {
  return typeof value === 'string' && path.isAbsolute(value);
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
