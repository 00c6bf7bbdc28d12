/**
 * Runs the embedded EventStoreDB-protocol server as its own process.
 * Prints one `listening` line with the bound port (tests and the up command wait for it), and
 * exits 78 with a clear message on a data folder it cannot use, so supervisors do not loop.
 */
import { EXIT_CONFIG, configFromCommandLine } from '#libs/config';

import { EventStoreConfig } from './config.js';
import { startEmbeddedEventStore } from './server.js';
import { DataFolderError } from './storage/database.js';

function fatal(message: string, code: number): never {
  process.stderr.write(`event-store: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const config = configFromCommandLine('event-store', EventStoreConfig, {
    title: 'nimbus embedded event store; options:',
  });
  if (!config) return;

  let store: Awaited<ReturnType<typeof startEmbeddedEventStore>>;
  try {
    store = await startEmbeddedEventStore(config);
  } catch (error) {
    if (error instanceof DataFolderError) fatal(error.message, EXIT_CONFIG);
    fatal(`cannot start: ${(error as Error).message}`, 1);
  }
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', host: config.host, port: store.port, dataDir: config.dataDir, pid: process.pid })}\n`,
  );

  const shutdown = (signal: string): void => {
    process.stdout.write(`${JSON.stringify({ msg: 'stopping', signal })}\n`);
    void store.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
}

await main();
