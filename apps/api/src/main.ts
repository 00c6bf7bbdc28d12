/**
 * Runs the OpenStack-compatible API (identity, compute, image) as its own process. Configuration comes
 * from the environment (`--help` lists every option); a bad value exits 78 with the list of problems.
 * Prints one `listening` JSON line with the bound port once the read models are current and the port is
 * open, as the event store does, so tests and `npm run up` can wait for it.
 * Must never print a token or password; the configuration is never logged.
 */
import { parseArgs } from 'node:util';

import { ConfigError, describeConfig, loadConfig } from '#libs/config';

import { startApi } from './api-app.js';
import { API_OPTIONS, ApiConfig } from './config/api.config.js';
import { BusComputeRpc } from './compute/bus-compute-rpc.js';
import { NatsHostLiveness } from './compute/nats-host-liveness.js';
import { UnwiredComputeRpc, UnwiredHostLiveness } from './compute/ports.js';

/** EX_CONFIG from sysexits.h. */
const EXIT_CONFIG = 78;

function fatal(message: string, code: number): never {
  process.stderr.write(`api: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let flags: { values: Record<string, string | boolean | undefined> };
  try {
    flags = parseArgs({ options: { help: { type: 'boolean' }, port: { type: 'string' } }, strict: true });
  } catch (error) {
    fatal(`${(error as Error).message}\n${describeConfig('options:', API_OPTIONS)}`, 2);
  }
  if (flags.values.help) {
    process.stdout.write(
      `${describeConfig('nimbus API (identity, compute, image); environment:', API_OPTIONS)}\n`,
    );
    return;
  }
  const source: Record<string, string | undefined> = { ...process.env };
  if (typeof flags.values.port === 'string') source.NIMBUS_API_PORT = flags.values.port;
  let config: ApiConfig;
  try {
    config = loadConfig(ApiConfig, source);
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message, EXIT_CONFIG);
    throw error;
  }

  // Without NATS the API still serves everything but consoles, and shows every host down.
  const computeRpc = config.natsUrl ? await BusComputeRpc.connect(config.natsUrl) : new UnwiredComputeRpc();
  const hostLiveness = config.natsUrl
    ? await NatsHostLiveness.connect(config.natsUrl, config.heartbeatTimeoutMs)
    : new UnwiredHostLiveness();
  const api = await startApi({ config, computeRpc, hostLiveness }).catch((error: unknown) =>
    fatal(`cannot start: ${(error as Error).message}`, 1),
  );
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', host: config.host, port: api.port, url: api.url, pid: process.pid })}\n`,
  );
  const shutdown = (signal: string): void => {
    process.stdout.write(`${JSON.stringify({ msg: 'stopping', signal })}\n`);
    void api
      .close()
      .then(async () => {
        if (computeRpc instanceof BusComputeRpc) await computeRpc.close();
        if (hostLiveness instanceof NatsHostLiveness) await hostLiveness.close();
      })
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
}

await main();
