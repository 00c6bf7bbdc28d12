// Finds and stops the rig's processes through /proc: by pid, by parent and by owning uid.
// It must never select processes by name (pkill -f, killall): another rig, another test or the
// machine's own sshd and libvirtd look exactly alike by name. A rig owns its sshd's process tree
// and every process of its host users, and nothing else.

import { readdir, readFile } from 'node:fs/promises';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Real uid. */
  readonly uid: number;
  /** One letter, as ps shows it: R, S, D, Z (zombie), ... */
  readonly state: string;
}

/** Reads the fields the rig needs from the text of /proc/<pid>/status. */
export function parseProcStatus(pid: number, text: string): ProcessInfo | undefined {
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const ppid = Number(field('PPid'));
  const uid = Number(field('Uid')?.split(/\s+/)[0]);
  const state = field('State')?.charAt(0);
  if (!Number.isInteger(ppid) || !Number.isInteger(uid) || !state) return undefined;
  return { pid, ppid, uid, state };
}

/** A snapshot of every process; ones that exit while it is being read are skipped. */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const infos = await Promise.all(pids.map(readProcess));
  return infos.filter((info): info is ProcessInfo => info !== undefined);
}

async function readProcess(pid: number): Promise<ProcessInfo | undefined> {
  try {
    return parseProcStatus(pid, await readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The argument vector of a live process, or undefined when it is gone. */
export async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((arg) => arg.length > 0);
  } catch {
    return undefined;
  }
}

/** A zombie has finished; only its parent's wait() is missing, so it counts as gone. */
export async function isRunning(pid: number): Promise<boolean> {
  const info = await readProcess(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Every live process started by `root` (children, grandchildren, ...), not including `root`. */
export function descendantsOf(root: number, table: readonly ProcessInfo[]): number[] {
  const found: number[] = [];
  const queue = [root];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const info of table) {
      if (info.ppid === parent && info.state !== 'Z') {
        found.push(info.pid);
        queue.push(info.pid);
      }
    }
  }
  return found;
}

export async function pidsOfUser(uid: number): Promise<number[]> {
  return (await listProcesses())
    .filter((info) => info.uid === uid && info.state !== 'Z')
    .map((info) => info.pid);
}

/**
 * Asks the processes to exit (SIGTERM), waits up to `graceMs`, then SIGKILLs whatever is left and
 * waits for that too. libvirtd takes a second or two to shut down cleanly, so the grace is generous.
 * Resolves to the pids that still run at the end (normally none).
 */
export async function terminate(pids: readonly number[], graceMs = 5_000): Promise<number[]> {
  signalAll(pids, 'SIGTERM');
  let left = await waitForExit(pids, graceMs);
  if (left.length > 0) {
    signalAll(left, 'SIGKILL');
    left = await waitForExit(left, 3_000);
  }
  return left;
}

/**
 * Stops every process of a user. A daemon can fork while it is being stopped, so the sweep is
 * repeated until a pass finds nothing.
 */
export async function terminateUser(uid: number, graceMs = 5_000): Promise<void> {
  for (let pass = 0; pass < 5; pass += 1) {
    const pids = await pidsOfUser(uid);
    if (pids.length === 0) return;
    await terminate(pids, graceMs);
  }
  const left = await pidsOfUser(uid);
  if (left.length > 0) throw new Error(`processes of uid ${uid} survived SIGKILL: ${left.join(', ')}`);
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      // ESRCH: it exited between the listing and now, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = (await Promise.all(pids.map(async (pid) => ((await isRunning(pid)) ? pid : 0)))).filter(
      (pid) => pid !== 0,
    );
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
