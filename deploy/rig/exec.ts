// Runs the host tools the rig needs (sshd, ssh-keygen, virsh, qemu-img, nasm, useradd) and finds them.
// Every command is an executable plus an argument array, never a shell string: names and paths that
// come from callers must not be able to become shell syntax. Nothing here may print key material.

import { execFile } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';

/** A tool the rig calls, with the Debian package that ships it (for the error when it is missing). */
export interface Tool {
  readonly name: string;
  readonly debianPackage: string;
}

export const TOOLS = {
  sshd: { name: 'sshd', debianPackage: 'openssh-server' },
  sshKeygen: { name: 'ssh-keygen', debianPackage: 'openssh-client' },
  virsh: { name: 'virsh', debianPackage: 'libvirt-clients' },
  libvirtd: { name: 'libvirtd', debianPackage: 'libvirt-daemon libvirt-daemon-driver-qemu' },
  qemuSystem: { name: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86' },
  qemuImg: { name: 'qemu-img', debianPackage: 'qemu-utils' },
  nasm: { name: 'nasm', debianPackage: 'nasm' },
  useradd: { name: 'useradd', debianPackage: 'passwd' },
  userdel: { name: 'userdel', debianPackage: 'passwd' },
  getent: { name: 'getent', debianPackage: 'libc-bin' },
} as const satisfies Record<string, Tool>;

export type ToolKey = keyof typeof TOOLS;
export type ToolPaths = Record<ToolKey, string>;

export class MissingToolError extends Error {
  constructor(tool: Tool, searched: readonly string[]) {
    super(
      `'${tool.name}' was not found on PATH or in ${searched.join(', ')}; ` +
        `install the Debian package: apt-get install ${tool.debianPackage}`,
    );
    this.name = 'MissingToolError';
  }
}

export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (${String(exitCode)}): ${stderr.trim() || '(no output)'}`);
    this.name = 'CommandFailedError';
  }
}

// Root's PATH under cron, CI runners or `sudo` often lacks the sbin directories where Debian puts
// sshd and useradd, so the standard locations are searched after PATH.
const STANDARD_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of an executable (sshd re-executes itself and refuses a relative path). */
export async function findTool(tool: Tool, searchPath = process.env.PATH ?? ''): Promise<string> {
  const dirs = [...searchPath.split(path.delimiter).filter((dir) => path.isAbsolute(dir)), ...STANDARD_DIRS];
  for (const dir of new Set(dirs)) {
    const candidate = path.join(dir, tool.name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  throw new MissingToolError(tool, STANDARD_DIRS);
}

/**
 * Finds every tool of a table at once (the rig's own by default), so a machine missing several
 * packages hears about all of them; `purpose` heads the error.
 */
export async function findTools<K extends string = ToolKey>(
  tools: Readonly<Record<K, Tool>> = TOOLS as Readonly<Record<string, Tool>>,
  purpose = 'the rig cannot run on this machine',
): Promise<Record<K, string>> {
  const keys = Object.keys(tools) as K[];
  const found = await Promise.allSettled(keys.map((key) => findTool(tools[key])));
  const missing = found.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  if (missing.length > 0) throw new Error(`${purpose}:\n  ${missing.join('\n  ')}`);
  return Object.fromEntries(
    keys.map((key, i) => [key, (found[i] as PromiseFulfilledResult<string>).value]),
  ) as Record<K, string>;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export interface RunOptions {
  /** Run as this user (libuv drops root's supplementary groups when it switches). */
  readonly uid?: number;
  readonly gid?: number;
  /** The complete environment; by default the caller's. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; a non-zero exit becomes a CommandFailedError carrying stderr. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [path.basename(file), ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        uid: options.uid,
        gid: options.gid,
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const exitCode = error.code ?? error.signal ?? null;
          reject(new CommandFailedError(command, exitCode, stderr || error.message));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    child.stdin?.end(options.input);
  });
}
