/**
 * Runs the OpenStack-compatible API (identity, compute, image) as its own process. Configuration comes
 * from the environment (`--help` lists every option); a bad value exits 78 with the list of problems.
 * Prints one `listening` JSON line with the bound port once the read models are current and the port is
 * open, as the event store does, so tests and `npm run up` can wait for it.
 * Must never print a token or password; the configuration is never logged.
 */
import { readFileSync } from 'node:fs';

import { configFromCommandLine } from '#libs/config';
import { startTracing } from '#libs/telemetry';

import { startApi } from './api-app.js';
import { ApiConfig } from './config/api.config.js';
import { NatsAuditStream } from './audit/nats/audit-stream.js';
import type { AuditNatsSigner } from './audit/nats/audit-subscriptions.js';
import { BusComputeRpc } from './compute/bus-compute-rpc.js';
import { NatsHostLiveness } from './compute/nats-host-liveness.js';
import { UnwiredComputeRpc, UnwiredHostLiveness } from './compute/ports.js';

function fatal(message: string, code: number): never {
  process.stderr.write(`api: ${message}\n`);
  process.exit(code);
}

/** The audit signing key, read from its file; both it and its account, or neither. */
function readAuditSigner(config: ApiConfig): AuditNatsSigner | null {
  const { auditNatsSigningKeyFile: file, auditNatsAccount: account } = config;
  if (file === undefined && account === undefined) return null;
  if (file === undefined || account === undefined || config.natsUrl === undefined)
    fatal(
      'NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE and NIMBUS_API_AUDIT_NATS_ACCOUNT go together, and need NATS_URL',
      78,
    );
  let signingSeed: string;
  try {
    signingSeed = readFileSync(file, 'utf8').trim();
  } catch (error) {
    fatal(`NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE cannot be read: ${(error as Error).message}`, 78);
  }
  if (!/^SA[A-Z2-7]{56}$/.test(signingSeed))
    fatal('NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE does not hold an account seed (SA...)', 78);
  return { signingSeed, accountPublicKey: account, natsUrl: config.auditNatsUrl ?? config.natsUrl };
}

async function main(): Promise<void> {
  const config = configFromCommandLine('api', ApiConfig, {
    title: 'nimbus API (identity, compute, image); environment:',
  });
  if (!config) return;
  // Exports spans over OTLP when an endpoint is configured; nothing otherwise.
  await startTracing('nimbus-api', config);

  const bus =
    config.natsUrl === undefined
      ? null
      : { url: config.natsUrl, credsFile: config.natsCreds, replicas: config.jetstreamReplicas };
  const auditSigner = readAuditSigner(config);
  // Without NATS the API still serves everything but consoles and the audit feed over NATS, and shows
  // every host down.
  const computeRpc = bus ? await BusComputeRpc.connect(bus) : new UnwiredComputeRpc();
  const hostLiveness = bus
    ? await NatsHostLiveness.connect(bus, config.heartbeatTimeoutMs)
    : new UnwiredHostLiveness();
  const auditStream = bus
    ? await NatsAuditStream.connect(bus.url, bus.credsFile, undefined, bus.replicas)
    : null;
  const api = await startApi({ config, computeRpc, hostLiveness, auditStream, auditSigner }).catch(
    (error: unknown) => fatal(`cannot start: ${(error as Error).message}`, 1),
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
        await auditStream?.close();
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
