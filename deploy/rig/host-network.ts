// The rig's guest network: the network namespace that stands for the machines' physical network (every
// guest bridge, tap and address lives in it, never in the machine's own namespace), and the privileged
// helper (host-net.sh) that the host users may run through sudo to wire their guests' NICs into it.
// It must never give the root namespace an address, never let a host user run anything as root but
// the helper, and never install the helper where a user could change it.

import { chmod, copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { findTools, run } from './exec.js';
import { findRigFile, readIfExists, writeFileAtomic } from './files.js';
import { validateNamePrefix } from './naming.js';

/**
 * What the wiring needs on the machine: iproute2's `ip`, sudo with `visudo` to check its rule, Python
 * for the helper, dnsmasq for the networks' DHCP servers, haproxy for their metadata proxies and
 * nftables for their security groups.
 */
export const NETWORK_TOOLS = {
  ip: { name: 'ip', debianPackage: 'iproute2' },
  visudo: { name: 'visudo', debianPackage: 'sudo' },
  python: { name: 'python3', debianPackage: 'python3' },
  dnsmasq: { name: 'dnsmasq', debianPackage: 'dnsmasq-base' },
  haproxy: { name: 'haproxy', debianPackage: 'haproxy' },
  nft: { name: 'nft', debianPackage: 'nftables' },
  sysctl: { name: 'sysctl', debianPackage: 'procps' },
} as const;

export interface NetworkToolPaths {
  readonly ip: string;
  readonly visudo: string;
}

/** Finds the tools, so a machine missing one hears which package to install before anything is made. */
export function findNetworkTools(): Promise<NetworkToolPaths> {
  return findTools(NETWORK_TOOLS, "the rig's guest network cannot run on this machine");
}

/** `nimbus-<prefix>`: one namespace per rig, so rigs in different state folders never share one. */
export function rigNetnsName(prefix: string): string {
  return `nimbus-${validateNamePrefix(prefix)}`;
}

export function networkPaths(stateDir: string, prefix: string) {
  const dir = path.join(stateDir, 'net');
  return {
    dir,
    helper: path.join(dir, 'host-net'),
    netnsFile: path.join(dir, 'netns'),
    metadataSocketFile: path.join(dir, 'metadata-socket'),
    taps: path.join(dir, 'taps'),
    sudoers: path.join('/etc/sudoers.d', `nimbus-rig-${validateNamePrefix(prefix)}`),
  };
}

export interface RigNetwork {
  /** The namespace holding the rig's guest networks; tests reach guests with `ip netns exec`. */
  readonly netns: string;
  /** The helper a host user runs as `sudo -n <helper> prepare|plug|unplug|dhcp ...`. */
  readonly helperPath: string;
  /**
   * Where the metadata service is to listen (the API's NIMBUS_API_METADATA_SOCKET): the networks'
   * metadata proxies forward guests' requests for 169.254.169.254 there.
   */
  readonly metadataSocket: string;
}

/**
 * Makes the namespace (loopback up, nothing else) and installs the helper and the sudoers rule that
 * lets exactly `users` run it without a password. Idempotent.
 */
export async function ensureRigNetwork(
  tools: NetworkToolPaths,
  stateDir: string,
  prefix: string,
  users: readonly string[],
): Promise<RigNetwork> {
  const paths = networkPaths(stateDir, prefix);
  const netns = rigNetnsName(prefix);
  await mkdir(paths.dir, { recursive: true, mode: 0o755 });
  await assertRootOwnedPath(paths.dir);
  const source = await findRigFile('host-net.py', path.dirname(fileURLToPath(import.meta.url)));
  const partial = `${paths.helper}.${process.pid}.tmp`;
  await copyFile(source, partial);
  await chmod(partial, 0o755);
  await writeFileAtomic(paths.netnsFile, `${netns}\n`, 0o644);
  const metadataSocket = path.join('/run', netns, 'metadata.sock');
  await writeFileAtomic(paths.metadataSocketFile, `${metadataSocket}\n`, 0o644);
  await rename(partial, paths.helper);

  if (!(await netnsExists(tools.ip, netns))) await run(tools.ip, ['netns', 'add', netns]);
  await run(tools.ip, ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
  // Security groups filter bridged traffic at the inet forward hook, which br_netfilter feeds.
  await run(tools.ip, [
    'netns',
    'exec',
    netns,
    'sysctl',
    '-q',
    '-w',
    'net.bridge.bridge-nf-call-iptables=1',
  ]).catch((error: unknown) => {
    throw new Error(
      `the kernel's bridge netfilter (br_netfilter, net.bridge.bridge-nf-call-iptables) is needed to enforce security groups: ${String(error)}`,
    );
  });

  await installSudoers(tools.visudo, paths.sudoers, paths.helper, users);
  return { netns, helperPath: paths.helper, metadataSocket };
}

/**
 * Removes the namespaces (the rig's, with every bridge and tap in it, and each network's DHCP
 * namespace) after stopping every process in them (the DHCP servers), the taps still waiting in the
 * machine's namespace for a guest, the sudoers rule, the helper and its run-time files. Safe to repeat.
 */
export async function removeRigNetwork(ip: string, stateDir: string, prefix: string): Promise<void> {
  const paths = networkPaths(stateDir, prefix);
  await rm(paths.sudoers, { force: true });
  const taps = await readdir(paths.taps).catch(() => [] as string[]);
  for (const tap of taps.filter((name) => /^tap[0-9a-f-]{11}$/.test(name))) {
    await run(ip, ['link', 'del', 'dev', tap]).catch(() => undefined);
  }
  const netns = rigNetnsName(prefix);
  for (const name of await rigNamespaces(ip, netns)) {
    const { stdout } = await run(ip, ['netns', 'pids', name]);
    for (const pid of stdout.split('\n').filter((line) => /^\d+$/.test(line))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await run(ip, ['netns', 'del', name]);
  }
  await rm(paths.dir, { recursive: true, force: true });
  await rm(path.join('/run', netns), { recursive: true, force: true });
}

/** The rig's namespace, its networks' DHCP namespaces and its routers' (`<netns>-dhcp-...`, `<netns>-router-...`). */
async function rigNamespaces(ip: string, netns: string): Promise<string[]> {
  const { stdout } = await run(ip, ['netns', 'list']);
  const names = stdout.split('\n').map((line) => line.split(' ')[0] ?? '');
  return names.filter(
    (name) => name === netns || name.startsWith(`${netns}-dhcp-`) || name.startsWith(`${netns}-router-`),
  );
}

async function netnsExists(ip: string, netns: string): Promise<boolean> {
  return (await rigNamespaces(ip, netns)).includes(netns);
}

/** The rule, checked by visudo before it goes in place; sudo would stop working on a broken one. */
async function installSudoers(
  visudo: string,
  file: string,
  helper: string,
  users: readonly string[],
): Promise<void> {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(helper)) {
    throw new Error(`the helper's path ${helper} cannot be named in a sudoers rule`);
  }
  if (users.length === 0 || users.some((user) => !/^[a-z][a-z0-9-]*$/.test(user))) {
    throw new Error('a sudoers rule needs host user names');
  }
  const rule = [
    '# Written by the Nimbus rig: its host users may wire their guests into the rig network.',
    `Defaults!${helper} env_reset`,
    `${users.join(', ')} ALL=(root) NOPASSWD: ${helper}`,
    '',
  ].join('\n');
  if ((await readIfExists(file)) === rule) return;
  const partial = `${file}.${process.pid}.tmp`;
  try {
    await writeFileAtomic(partial, rule, 0o440);
    await run(visudo, ['-c', '-q', '-f', partial]);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * Root owns the folder and every folder above it, and none is writable by anyone else (a sticky
 * folder such as /tmp is allowed: others may add entries there but not replace root's).
 */
async function assertRootOwnedPath(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await lstat(current);
    const sharedWritable = (info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0;
    if (info.uid !== 0 || sharedWritable || info.isSymbolicLink()) {
      throw new Error(
        `${current} must be owned by root and writable by root alone to hold the rig's network helper`,
      );
    }
    if (path.dirname(current) === current) return;
  }
}
