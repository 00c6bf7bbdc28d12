/**
 * One child process a test owns: started on a free loopback port, recognised as ready by a line it
 * prints, and able to be killed with SIGKILL and started again on the same port. Every process
 * started here is stopped by `stop()`, which tests call in `afterAll`; its output is kept in
 * memory so a failure can show it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LaunchSpec {
  readonly name: string;
  /** The command line for a given port (0 on the first start: pick a free one). */
  argv(port: number): readonly string[];
  /** The environment, or the environment for a given port (0 on the first start), as argv. */
  readonly env?: NodeJS.ProcessEnv | ((port: number) => NodeJS.ProcessEnv);
  /** Which stream announces readiness. */
  readonly readyOn?: 'stdout' | 'stderr';
  /** Returns the bound port once a line says the process is ready. */
  ready(line: string, state: Record<string, unknown>): number | undefined;
  readonly startTimeoutMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process printed, across restarts. */
  output(): string;
  /** SIGKILL, no goodbye: whatever was not durable is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, as an operator's `down` does: the process shuts down gracefully; what it keeps stays. */
  terminate(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Terminates it for good (wrappers also remove what it kept). */
  stop(): Promise<void>;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

async function launch(
  spec: LaunchSpec,
  port: number,
  log: string[],
): Promise<{ child: ChildProcess; port: number }> {
  const [command, ...args] = spec.argv(port);
  if (!command) throw new Error(`${spec.name}: empty command line`);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: (typeof spec.env === 'function' ? spec.env(port) : spec.env) ?? process.env,
  });
  const state: Record<string, unknown> = {};
  const keep = (line: string): void => {
    log.push(line);
    if (log.length > 2_000) log.shift();
  };
  const other = spec.readyOn === 'stderr' ? child.stdout : child.stderr;
  createInterface({ input: other }).on('line', keep);
  const lines = createInterface({ input: spec.readyOn === 'stderr' ? child.stderr : child.stdout });
  const bound = await new Promise<number>((resolve, reject) => {
    const timeoutMs = spec.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.name} did not start within ${timeoutMs} ms:\n${log.slice(-40).join('\n')}`));
    }, timeoutMs);
    lines.on('line', (line) => {
      keep(line);
      const ready = spec.ready(line, state);
      if (ready !== undefined) {
        clearTimeout(timer);
        resolve(ready);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${spec.name} exited (${code ?? signal}) before it was ready:\n${log.slice(-40).join('\n')}`,
        ),
      );
    });
  });
  return { child, port: bound };
}

export async function startManagedProcess(spec: LaunchSpec, port = 0): Promise<ManagedProcess> {
  const log: string[] = [];
  let current = await launch(spec, port, log);
  const boundPort = current.port;
  const terminate = async (): Promise<void> => {
    const { child } = current;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 10_000);
    await waitForExit(child);
    clearTimeout(timer);
  };
  return {
    name: spec.name,
    port: boundPort,
    get pid() {
      return current.child.pid ?? -1;
    },
    output: () => log.join('\n'),
    async kill9() {
      current.child.kill('SIGKILL');
      await waitForExit(current.child);
    },
    async restart() {
      await waitForExit(current.child);
      current = await launch(spec, boundPort, log);
    },
    terminate,
    stop: terminate,
  };
}

/** The `{"msg":"listening","port":N}` line every Nimbus app prints when it is ready. */
export function listeningPort(line: string): number | undefined {
  try {
    const message = JSON.parse(line) as { msg?: string; port?: number };
    return message.msg === 'listening' && typeof message.port === 'number' ? message.port : undefined;
  } catch {
    return undefined;
  }
}
