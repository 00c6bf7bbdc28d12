/**
 * Runs the OpenStack-compatible API (identity, compute, image) as its own process. Configuration comes
 * from the environment (`--help` lists every option); a bad value exits 78 with the list of problems.
 * Prints one `listening` JSON line with the bound port once the read models are current and the port is
 * open, as the event store does, so tests and `npm run up` can wait for it.
 * Must never print a token or password; the configuration is never logged.
 */
import { configFromCommandLine } from '#libs/config';

import { startApi } from './api-app.js';
import { ApiConfig } from './config/api.config.js';
import { BusComputeRpc } from './compute/bus-compute-rpc.js';
import { NatsHostLiveness } from './compute/nats-host-liveness.js';
import { UnwiredComputeRpc, UnwiredHostLiveness } from './compute/ports.js';

function fatal(message: string, code: number): never {
  process.stderr.write(`api: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const config = configFromCommandLine('api', ApiConfig, {
    title: 'nimbus API (identity, compute, image); environment:',
  });
  if (!config) return;

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
