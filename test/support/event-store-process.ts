/**
 * Starts the embedded event store as a real child process for integration tests, on a free loopback
 * port and a fresh data folder, and can kill -9 and restart it on the same port and folder.
 * Every process started here is stopped by `stop()`; tests call it in `afterAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const EVENT_STORE_MAIN = join(process.cwd(), 'dist/apps/event-store/src/main.js');

export interface EventStoreProcess {
  readonly port: number;
  readonly dataDir: string;
  readonly connectionString: string;
  readonly pid: number;
  /** SIGKILL, no goodbye: whatever was not durable is gone. */
  kill9(): Promise<void>;
  /** Starts the server again on the same port and data folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  port: number;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

async function launch(dataDir: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, [EVENT_STORE_MAIN, '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`event store did not start within 15 s: ${stderr}`)),
      15_000,
    );
    lines.on('line', (line) => {
      try {
        const message = JSON.parse(line) as { msg?: string; port?: number };
        if (message.msg === 'listening' && typeof message.port === 'number') {
          clearTimeout(timer);
          resolve(message.port);
        }
      } catch {
        /* not a log line of ours */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`event store exited with ${code}: ${stderr}`));
    });
  });
  return { child, port: bound };
}

export async function startEventStoreProcess(options: { dataDir?: string } = {}): Promise<EventStoreProcess> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nimbus-es-'));
  let current = await launch(dataDir, 0);
  const port = current.port;
  return {
    port,
    dataDir,
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    get pid() {
      return current.child.pid ?? -1;
    },
    async kill9() {
      current.child.kill('SIGKILL');
      await waitForExit(current.child);
    },
    async restart() {
      await waitForExit(current.child);
      current = await launch(dataDir, port);
    },
    async stop() {
      if (current.child.exitCode === null && current.child.signalCode === null) {
        current.child.kill('SIGTERM');
        const timer = setTimeout(() => {
          current.child.kill('SIGKILL');
        }, 5_000);
        await waitForExit(current.child);
        clearTimeout(timer);
      }
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
