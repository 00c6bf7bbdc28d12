/**
 * Opens the one NATS connection a Nimbus process uses for a purpose: named (so `nats server report
 * connections` shows who is who), waiting for the server at start-up, and reconnecting forever with a
 * capped exponential backoff, because a control plane outlives any one NATS restart.
 * Must never log a server URL as given (it may carry a user and password) and never give up reconnecting:
 * callers treat a closed connection as the end of the process, not as a condition to poll.
 */
import { readFileSync } from 'node:fs';

import { Logger } from '@nestjs/common';
import {
  type ConnectionOptions,
  type NatsConnection,
  connect,
  credsAuthenticator,
} from '@nats-io/transport-node';

export interface BusConnectionOptions {
  /** `nats://host:port`, or several separated by commas; usually `NATS_URL`. */
  readonly url: string;
  /** The connection name the server shows, e.g. `scheduler` or `compute-hv-01:consumers`. */
  readonly name: string;
  /** A creds file (user JWT and seed), usually `NATS_CREDS`, for a server in operator mode. */
  readonly credsFile?: string;
  /** The first reconnect delay; it doubles per failed attempt up to maxReconnectDelayMs (default 100). */
  readonly minReconnectDelayMs?: number;
  /** The cap of the reconnect backoff (default 2000): how long a restarted server waits for us at worst. */
  readonly maxReconnectDelayMs?: number;
  /** Timeout of each connection attempt in milliseconds (default 2000). */
  readonly connectTimeoutMs?: number;
}

/** The `@nats-io/transport-node` options for a Nimbus connection; also what Nest's NATS transport takes. */
export function connectionOptions(options: BusConnectionOptions): ConnectionOptions {
  const delay = reconnectBackoff(options.minReconnectDelayMs ?? 100, options.maxReconnectDelayMs ?? 2_000);
  return {
    servers: serverList(options.url),
    name: options.name,
    ...(options.credsFile === undefined ? {} : { authenticator: credsFrom(options.credsFile) }),
    timeout: options.connectTimeoutMs ?? 2_000,
    // Start-up order between services is not ours to rely on: keep trying until the server answers.
    waitOnFirstConnect: true,
    reconnect: true,
    maxReconnectAttempts: -1,
    // The handler below is the backoff; the per-server wait only spaces attempts within one round.
    reconnectTimeWait: 0,
    reconnectJitter: 50,
    reconnectDelayHandler: delay.next,
    // Every request would otherwise capture a stack trace up front, in case it fails: measurable on the
    // relay's and the consumers' hot paths, and our errors name the subject and the event anyway.
    noAsyncTraces: true,
  };
}

/** Connects, and logs every disconnect and reconnect under the connection's name. */
export async function connectBus(options: BusConnectionOptions): Promise<NatsConnection> {
  const logger = new Logger(`Nats(${options.name})`);
  const connection = await connect(connectionOptions(options));
  logger.log(`connected to ${maskUrl(connection.getServer())}`);
  void watchStatus(connection, logger);
  return connection;
}

/**
 * A capped exponential backoff for reconnect attempts. nats.js asks for the next delay without saying
 * which attempt it is, so the count lives here and restarts whenever a delay has not been asked for
 * longer than the cap (a connection that stayed up that long had recovered).
 */
export function reconnectBackoff(
  minMs: number,
  maxMs: number,
  now: () => number = Date.now,
): { next: () => number } {
  let attempt = 0;
  let lastAskedAt = Number.NEGATIVE_INFINITY;
  return {
    next: () => {
      const at = now();
      if (at - lastAskedAt > 2 * maxMs) attempt = 0;
      lastAskedAt = at;
      const delay = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
      attempt += 1;
      return delay;
    },
  };
}

/** `nats://user:secret@host:4222` becomes `nats://***@host:4222`, for logs. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, (_match, scheme: string | undefined) => {
    return `${scheme ?? ''}***@`;
  });
}

/** Read once, at start: a creds file that cannot be read is a configuration error, not a retry. */
function credsFrom(path: string): ConnectionOptions['authenticator'] {
  let creds: Uint8Array;
  try {
    creds = readFileSync(path);
  } catch (error) {
    throw new Error(`NATS creds file ${path} cannot be read: ${(error as Error).message}`);
  }
  return credsAuthenticator(creds);
}

function serverList(url: string): string[] {
  const servers = url
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server.length > 0);
  if (servers.length === 0) throw new Error('NATS url is empty: set NATS_URL to nats://host:port');
  return servers;
}

async function watchStatus(connection: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of connection.status()) {
    switch (status.type) {
      case 'disconnect':
        logger.warn(`disconnected from ${maskUrl(status.server)}; reconnecting`);
        break;
      case 'reconnect':
        logger.log(`reconnected to ${maskUrl(status.server)}`);
        break;
      case 'error':
        logger.error(`connection error: ${status.error.message}`);
        break;
      default:
        break;
    }
  }
}
