/**
 * Starts Debian's nats-server with JetStream as a real child process for integration tests, on a free
 * loopback port and a fresh store folder, and can kill -9 and restart it on the same port and folder.
 * Every process started here is stopped by `stop()`; tests call it in `afterAll`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ManagedProcess, startManagedProcess } from './managed-process.js';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsProcess extends ManagedProcess {
  readonly storeDir: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
}

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;
const READY = /Server is ready/;

/** Port 0 asks nats-server for a random free port (its `-p -1`); the log line says which it took. */
export async function startNatsProcess(
  options: { storeDir?: string; configLines?: readonly string[] } = {},
): Promise<NatsProcess> {
  const ownsStoreDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'nimbus-nats-'));
  // Settings with no command-line flag (operator mode's accounts) go in a file; the flags still apply.
  const configFile = join(storeDir, 'nats.conf');
  if (options.configLines) writeFileSync(configFile, `${options.configLines.join('\n')}\n`, { mode: 0o600 });
  const managed = await startManagedProcess({
    name: 'nats-server',
    argv: (port) => [
      NATS_SERVER,
      ...[
        '-a',
        '127.0.0.1',
        '-p',
        port === 0 ? '-1' : String(port),
        '-js',
        '-sd',
        storeDir,
        '-n',
        'nimbus-test',
        ...(options.configLines ? ['-c', configFile] : []),
      ],
    ],
    readyOn: 'stderr',
    ready: (line, state) => {
      const match = LISTENING.exec(line);
      if (match?.[1] !== undefined) state.port = Number(match[1]);
      return READY.test(line) && typeof state.port === 'number' ? state.port : undefined;
    },
    startTimeoutMs: 10_000,
  });
  // The managed process stays the prototype, so its live getters (pid) keep working.
  return Object.assign(Object.create(managed) as ManagedProcess, {
    storeDir,
    url: `nats://127.0.0.1:${managed.port}`,
    async stop() {
      await managed.stop();
      if (ownsStoreDir) rmSync(storeDir, { recursive: true, force: true });
    },
  });
}
