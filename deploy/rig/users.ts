// The rig's hosts as Unix users: create one with its home laid out, find it, empty it, remove it.
// A rig must never adopt, empty or delete an account it did not create: each home carries a
// root-owned marker naming the rig's state folder, and nothing destructive happens without it.
//
// Home layout (the home, .ssh and the markers are root-owned so sshd StrictModes accepts the
// authorized_keys file wherever the home lives, and the host user cannot change who logs in as it):
//   <home>/                       root  0755
//   <home>/.ssh/authorized_keys   root  0755 / 0644
//   <home>/.nimbus-rig            root  0644   the owning stateDir
//   <home>/images/                user  0700   image cache, filled by the compute agent over SFTP
//   <home>/instances/             user  0700   overlays, domain XML, serial logs
//   <home>/.cache .config .local  user  0700   libvirt session state (sockets live in ~/.cache/libvirt)
//   <home>/.config/libvirt/qemu.conf  root 0644  this host's own VNC port range

import { chmod, chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { CommandFailedError, run } from './exec.js';
import { readIfExists } from './files.js';
import { renderSessionQemuConf } from './libvirt-session.js';
import { sleep } from './processes.js';

export interface HostUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface HostDirs {
  readonly imageCacheDir: string;
  readonly instancesDir: string;
}

export function hostDirs(home: string): HostDirs {
  return { imageCacheDir: path.join(home, 'images'), instancesDir: path.join(home, 'instances') };
}

const MARKER = '.nimbus-rig';
const USER_OWNED_DIRS = ['images', 'instances', '.cache', '.config', '.local'];

/** The account, or undefined when there is none (getent exits 2 for "not found"). */
export async function lookupUser(getent: string, name: string): Promise<HostUser | undefined> {
  try {
    const { stdout } = await run(getent, ['passwd', name]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    if (home === undefined || !path.isAbsolute(home))
      throw new Error(`getent passwd ${name}: no home directory`);
    return { name, uid: Number(uid), gid: Number(gid), home };
  } catch (error) {
    if (error instanceof CommandFailedError && error.exitCode === 2) return undefined;
    throw error;
  }
}

/** The state folder recorded in a user's home, or undefined if the home is not a rig's. */
export async function owningStateDir(user: HostUser): Promise<string | undefined> {
  return (await readIfExists(path.join(user.home, MARKER)))?.trim();
}

export interface EnsureUserTools {
  readonly useradd: string;
  readonly getent: string;
}

/**
 * Creates the user if missing and (re)writes its home layout and authorized_keys. Calling it again
 * changes nothing that exists except the root-owned files, which are rewritten to the current key.
 */
export async function ensureHostUser(
  tools: EnsureUserTools,
  name: string,
  stateDir: string,
  authorizedKeys: string,
): Promise<HostUser> {
  const user = (await lookupUser(tools.getent, name)) ?? (await createUser(tools, name));
  await mkdir(user.home, { recursive: true });
  await setOwner(user.home, 0, 0, 0o755);
  await writeRootFile(path.join(user.home, MARKER), `${stateDir}\n`);
  const sshDir = path.join(user.home, '.ssh');
  await mkdir(sshDir, { recursive: true });
  await setOwner(sshDir, 0, 0, 0o755);
  await writeRootFile(path.join(sshDir, 'authorized_keys'), authorizedKeys);
  for (const dir of USER_OWNED_DIRS) {
    const full = path.join(user.home, dir);
    await mkdir(full, { recursive: true });
    await setOwner(full, user.uid, user.gid, 0o700);
  }
  const libvirtConfigDir = path.join(user.home, '.config', 'libvirt');
  await mkdir(libvirtConfigDir, { recursive: true });
  await setOwner(libvirtConfigDir, user.uid, user.gid, 0o700);
  await writeRootFile(path.join(libvirtConfigDir, 'qemu.conf'), renderSessionQemuConf(user.uid));
  return user;
}

async function createUser(tools: EnsureUserTools, name: string): Promise<HostUser> {
  // A system account with a user group and no home made by useradd (the rig lays the home out
  // itself). The password '*' matches no password yet, unlike useradd's default '!', does not mark
  // the account locked: sshd without PAM refuses even key logins to locked accounts.
  const args = ['--system', '--user-group', '--no-create-home', '--shell', '/bin/sh', '--password', '*'];
  await retryWhileLocked(() =>
    run(tools.useradd, [...args, '--comment', 'Nimbus rig hypervisor host', name]),
  );
  const user = await lookupUser(tools.getent, name);
  if (!user) throw new Error(`useradd ${name} succeeded but getent cannot find the user`);
  return user;
}

/** Deletes the user's instance files (overlays, domain XML, serial logs); keeps the image cache. */
export async function emptyInstancesDir(user: HostUser): Promise<void> {
  const { instancesDir } = hostDirs(user.home);
  const entries = await readdir(instancesDir).catch(() => [] as string[]);
  await Promise.all(
    entries.map((entry) => rm(path.join(instancesDir, entry), { recursive: true, force: true })),
  );
}

/**
 * Deletes the account, and its home if the marker there names this rig (a home without one was
 * never laid out by the rig, so it is not the rig's to delete). The caller vouches that the account
 * is this rig's and has stopped every process of it.
 */
export async function removeHostUser(userdel: string, user: HostUser, stateDir: string): Promise<void> {
  const ownsHome = (await owningStateDir(user)) === stateDir;
  // Not `userdel --remove`: it refuses homes the user does not own, and this one is root's.
  await retryWhileLocked(() => run(userdel, [user.name]));
  if (ownsHome) await rm(user.home, { recursive: true, force: true });
}

async function setOwner(target: string, uid: number, gid: number, mode: number): Promise<void> {
  await chown(target, uid, gid);
  await chmod(target, mode);
}

async function writeRootFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o644 });
  await setOwner(file, 0, 0, 0o644);
}

/**
 * useradd and userdel lock /etc/passwd and fail at once ("cannot lock /etc/passwd; try again
 * later") when another one holds it, as happens when test rigs are made in parallel.
 */
async function retryWhileLocked<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      const locked = error instanceof CommandFailedError && /cannot lock/i.test(error.stderr);
      if (!locked || attempt >= 20) throw error;
      await sleep(100 * attempt);
    }
  }
}
