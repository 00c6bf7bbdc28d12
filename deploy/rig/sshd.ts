// The rig's own sshd: its keys, and starting, finding and stopping the one process that serves them.
// It must never touch the machine's sshd or another rig's: a running sshd counts as this rig's only
// if the pid in this rig's PidFile is alive and was started with this rig's config file.

import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';

import { run } from './exec.js';
import { exists, readIfExists } from './files.js';
import type { RigPaths } from './inventory.js';
import { SSH_HOST } from './ssh-files.js';
import { commandLine, descendantsOf, isRunning, listProcesses, sleep, terminate } from './processes.js';

/**
 * Generates an unencrypted ed25519 key pair (mode 0600) unless the private key exists; returns the
 * public key line. An existing private key is never replaced: clients have pinned it.
 */
export async function ensureKeyPair(
  sshKeygen: string,
  privateKeyPath: string,
  comment: string,
): Promise<string> {
  const publicKeyPath = `${privateKeyPath}.pub`;
  if (!(await exists(privateKeyPath))) {
    await rm(publicKeyPath, { force: true }); // half a pair left behind would make ssh-keygen ask
    // -q keeps the randomart and fingerprint out of our output; no private key is ever printed.
    await run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyPath]);
  } else if (!(await exists(publicKeyPath))) {
    const { stdout } = await run(sshKeygen, ['-y', '-f', privateKeyPath]); // prints the public half only
    await writeFile(publicKeyPath, stdout, { mode: 0o644 });
  }
  return (await readFile(publicKeyPath, 'utf8')).trim();
}

/** The pid of this rig's running sshd, or undefined. */
export async function runningSshd(paths: RigPaths): Promise<number | undefined> {
  const pid = Number((await readIfExists(paths.sshdPid))?.trim());
  if (!Number.isInteger(pid) || pid <= 1 || !(await isRunning(pid))) return undefined;
  // The pid may have been reused by an unrelated process since this sshd died.
  const argv = await commandLine(pid);
  return argv?.some((arg) => arg.includes(paths.sshdConfig)) ? pid : undefined;
}

/** Fails with sshd's own words when the config is bad, before anything is started. */
export async function checkSshdConfig(sshd: string, paths: RigPaths): Promise<void> {
  await ensurePrivilegeSeparationDir(); // sshd -t insists on it too
  await run(sshd, ['-t', '-f', paths.sshdConfig]);
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on ${SSH_HOST} is already in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * Starts sshd in the foreground mode (-D) as a detached child rather than letting it daemonize:
 * a daemonized sshd that cannot bind dies silently in the background, while a child's exit is seen
 * at once. It is ready once it has written its PidFile (which it does after binding) and the port
 * accepts connections. Resolves to its pid; the caller's process may exit and leave it running.
 */
export async function startSshd(sshd: string, paths: RigPaths, port: number): Promise<number> {
  await ensurePrivilegeSeparationDir();
  // The log is appended to across starts: only what this start writes explains its failure.
  const logStart = (await stat(paths.sshdLog).catch(() => undefined))?.size ?? 0;
  // sshd re-executes itself for each connection and insists on an absolute path for that.
  const child = spawn(sshd, ['-D', '-f', paths.sshdConfig, '-E', paths.sshdLog], {
    detached: true,
    stdio: 'ignore',
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `exit code ${code}`));
  child.once('error', (error) => (exit = error.message));
  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (exit !== undefined) {
        const log = await logSince(paths.sshdLog, logStart);
        if (/Address already in use|Cannot bind any address/i.test(log)) throw new PortInUseError(port);
        throw new Error(`sshd stopped during start-up (${exit}); ${paths.sshdLog} says:\n${log}`);
      }
      if (child.pid !== undefined && (await runningSshd(paths)) === child.pid && (await accepts(port))) {
        return child.pid;
      }
      await sleep(50);
    }
    throw new Error(`sshd did not become ready on ${SSH_HOST}:${port} within 10 s; see ${paths.sshdLog}`);
  } catch (error) {
    if (child.pid !== undefined && exit === undefined) await terminate([child.pid]);
    throw error;
  } finally {
    child.removeAllListeners();
    child.unref();
  }
}

/**
 * Stops this rig's sshd. With `sessions`, also ends every connection it is serving (their
 * processes are its descendants: a root "[priv]" monitor and a child running as the host user);
 * without, open connections survive a restart, as they would a reload.
 */
export async function stopSshd(paths: RigPaths, options: { sessions: boolean }): Promise<void> {
  const pid = await runningSshd(paths);
  if (pid === undefined) return;
  const sessions = options.sessions ? descendantsOf(pid, await listProcesses()) : [];
  const left = await terminate([pid, ...sessions]);
  if (left.length > 0) throw new Error(`sshd processes survived SIGKILL: ${left.join(', ')}`);
}

/** A loopback port nobody listens on now (another process may take it before sshd binds it). */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, SSH_HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: SSH_HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** sshd chroots its unprivileged pre-auth child into /run/sshd; Debian's service creates it, we are not that. */
async function ensurePrivilegeSeparationDir(): Promise<void> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
}

async function logSince(file: string, offset: number): Promise<string> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.subarray(offset).toString('utf8').trimEnd();
}
