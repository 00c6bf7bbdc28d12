/**
 * Starts Debian's nats-server with JetStream as a real child process for integration tests, on a free
 * loopback port and a fresh store folder, and can kill -9 and restart it on the same port and folder.
 * Every process started here is stopped by `stop()`; tests call it in `afterAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsProcess {
  readonly port: number;
  readonly storeDir: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, no goodbye: whatever JetStream had not written out is gone. */
  kill9(): Promise<void>;
  /** Starts the server again on the same port and store folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
}

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;
const READY = /Server is ready/;

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

/** Port 0 asks nats-server for a random free port (its `-p -1`); the log line says which it took. */
async function launch(storeDir: string, port: number): Promise<Started> {
  const child = spawn(
    NATS_SERVER,
    ['-a', '127.0.0.1', '-p', port === 0 ? '-1' : String(port), '-js', '-sd', storeDir, '-n', 'nimbus-test'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const lines = createInterface({ input: child.stderr });
  const bound = await new Promise<number>((resolve, reject) => {
    let listening: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server did not start within 10 s:\n${log}`));
    }, 10_000);
    lines.on('line', (line) => {
      log += `${line}\n`;
      const match = LISTENING.exec(line);
      if (match?.[1] !== undefined) listening = Number(match[1]);
      if (READY.test(line) && listening !== null) {
        clearTimeout(timer);
        resolve(listening);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
  return { child, port: bound };
}

export async function startNatsProcess(options: { storeDir?: string } = {}): Promise<NatsProcess> {
  const ownsStoreDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'nimbus-nats-'));
  let current = await launch(storeDir, 0);
  const port = current.port;
  return {
    port,
    storeDir,
    url: `nats://127.0.0.1:${port}`,
    get pid() {
      return current.child.pid ?? -1;
    },
    async kill9() {
      current.child.kill('SIGKILL');
      await waitForExit(current.child);
    },
    async restart() {
      await waitForExit(current.child);
      current = await launch(storeDir, port);
    },
    async stop() {
      const { child } = current;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
        }, 5_000);
        await waitForExit(child);
        clearTimeout(timer);
      }
      if (ownsStoreDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
