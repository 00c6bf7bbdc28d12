// Talks to a host user's own `qemu:///session` libvirt from root, by running virsh as that user.
// Only teardown needs this; everything else reaches a host over SSH as the compute agent would.
// It must run virsh with the same HOME and without XDG_RUNTIME_DIR, exactly as an SSH session
// does, or it would autostart a second session daemon beside the one holding the domains.

import { run } from './exec.js';
import type { HostUser } from './users.js';

export const LIBVIRT_URI = 'qemu:///session';

/** VNC ports each host's libvirt may hand out; see vncPortRange. */
export const VNC_PORTS_PER_HOST = 25;
const VNC_FIRST_PORT = 5900;

/**
 * Every session daemon allocates VNC ports on its own from 5900 up, and all of them share this
 * machine's loopback: two hosts starting a domain at the same moment both pick 5900 and one fails
 * ("Failed to find an available port"). Real hypervisors never collide; the rig gives each host a
 * range of its own, keyed by uid because uids are unique on the machine even across parallel rigs.
 * System uids are below 1000, so the ranges stay under 5900 + 1000 * 25, below the ephemeral ports.
 */
export function vncPortRange(uid: number): { min: number; max: number } {
  const min = VNC_FIRST_PORT + (uid % 1000) * VNC_PORTS_PER_HOST;
  return { min, max: min + VNC_PORTS_PER_HOST - 1 };
}

/** `~/.config/libvirt/qemu.conf` of a host: the session daemon reads it when it starts. */
export function renderSessionQemuConf(uid: number): string {
  const { min, max } = vncPortRange(uid);
  return [
    '# Written by the Nimbus hypervisor rig (deploy/rig); rewritten on every createRig.',
    '# This host shares the machine loopback with other rig hosts: keep to its own VNC ports.',
    'vnc_listen = "127.0.0.1"',
    `remote_display_port_min = ${min}`,
    `remote_display_port_max = ${max}`,
    '',
  ].join('\n');
}

/** The environment of a non-PAM SSH session of this user (sshd sets no XDG_RUNTIME_DIR either). */
export function sessionEnv(user: HostUser): NodeJS.ProcessEnv {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C',
  };
}

async function virsh(virshPath: string, user: HostUser, args: readonly string[]): Promise<string> {
  const { stdout } = await run(virshPath, ['--quiet', '-c', LIBVIRT_URI, ...args], {
    uid: user.uid,
    gid: user.gid,
    env: sessionEnv(user),
    cwd: user.home,
    timeoutMs: 30_000,
  });
  return stdout;
}

/** UUIDs of every domain of the user, running or only defined. */
export async function listDomains(virshPath: string, user: HostUser): Promise<string[]> {
  const out = await virsh(virshPath, user, ['list', '--all', '--uuid']);
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Powers off and undefines every domain. This autostarts the session daemon if none runs, so the
 * caller must stop the user's processes afterwards (the daemon lingers ~2 minutes otherwise).
 */
export async function destroyAllDomains(virshPath: string, user: HostUser): Promise<string[]> {
  const domains = await listDomains(virshPath, user);
  // A domain listed may have been removed by the next call: what this wants done is then done.
  const unlessGone = (error: unknown): string => {
    if (!/failed to get domain|[Dd]omain not found/.test((error as Error).message)) throw error;
    return 'gone';
  };
  for (const uuid of domains) {
    const state = (await virsh(virshPath, user, ['domstate', uuid]).catch(unlessGone)).trim();
    if (state === 'gone') continue;
    // The guest may halt on its own between the two calls: then there is nothing left to destroy.
    if (state !== 'shut off')
      await virsh(virshPath, user, ['destroy', uuid]).catch((error: unknown) => {
        if (!/domain is not running/.test((error as Error).message)) return unlessGone(error);
        return '';
      });
    await virsh(virshPath, user, [
      'undefine',
      uuid,
      '--managed-save',
      '--snapshots-metadata',
      '--nvram',
    ]).catch(unlessGone);
  }
  return domains;
}
