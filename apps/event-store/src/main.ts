/**
 * Runs the embedded EventStoreDB-protocol server as its own process.
 * Prints one `listening` line with the bound port (tests and the up command wait for it), and
 * exits 78 with a clear message on a data folder it cannot use, so supervisors do not loop.
 */
import { parseArgs } from 'node:util';

import { ConfigError, describeConfig, loadConfig } from '#libs/config';

import { EVENT_STORE_OPTIONS, EventStoreConfig } from './config.js';
import { startEmbeddedEventStore } from './server.js';
import { DataFolderError } from './storage/event-log.js';

/** EX_CONFIG from sysexits.h: the configuration or the data folder is unusable. */
const EXIT_CONFIG = 78;

function fatal(message: string, code: number): never {
  process.stderr.write(`event-store: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let flags: { values: Record<string, string | boolean | undefined> };
  try {
    flags = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    fatal(`${(error as Error).message}\n${describeConfig('options:', EVENT_STORE_OPTIONS)}`, 2);
  }
  if (flags.values.help) {
    process.stdout.write(`${describeConfig('nimbus embedded event store; options:', EVENT_STORE_OPTIONS)}\n`);
    return;
  }
  const source: Record<string, string | undefined> = { ...process.env };
  const flag = (name: string): string | undefined => {
    const value = flags.values[name];
    return typeof value === 'string' ? value : undefined;
  };
  source.NIMBUS_EVENTSTORE_DATA_DIR = flag('data-dir') ?? source.NIMBUS_EVENTSTORE_DATA_DIR;
  source.NIMBUS_EVENTSTORE_HOST = flag('host') ?? source.NIMBUS_EVENTSTORE_HOST;
  source.NIMBUS_EVENTSTORE_PORT = flag('port') ?? source.NIMBUS_EVENTSTORE_PORT;

  let config: EventStoreConfig;
  try {
    config = loadConfig(EventStoreConfig, source);
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message, EXIT_CONFIG);
    throw error;
  }

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
