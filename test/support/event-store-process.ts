/**
 * Starts the embedded event store as a real child process for integration tests, on a free loopback
 * port and a fresh data folder, and can kill -9 and restart it on the same port and folder.
 * Every process started here is stopped by `stop()`; tests call it in `afterAll`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ManagedProcess, listeningPort, startManagedProcess } from './managed-process.js';

export const EVENT_STORE_MAIN = join(process.cwd(), 'dist/apps/event-store/src/main.js');

export interface EventStoreProcess extends ManagedProcess {
  readonly dataDir: string;
  readonly connectionString: string;
}

export async function startEventStoreProcess(options: { dataDir?: string } = {}): Promise<EventStoreProcess> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nimbus-es-'));
  const managed = await startManagedProcess({
    name: 'event-store',
    argv: (port) => [process.execPath, EVENT_STORE_MAIN, '--data-dir', dataDir, '--port', String(port)],
    ready: listeningPort,
    startTimeoutMs: 15_000,
  });
  // The managed process stays the prototype, so its live getters (pid) keep working.
  return Object.assign(Object.create(managed) as ManagedProcess, {
    dataDir,
    connectionString: `esdb://127.0.0.1:${managed.port}?tls=false`,
    async stop() {
      await managed.stop();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
