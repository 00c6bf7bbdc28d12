/**
 * The connector: opens one SSH connection to a host (key authentication, the host key checked against
 * its pin during key exchange, keep-alives, TCP_NODELAY) and says in SshError terms why it could not.
 * A session (ssh-session.ts) decides when to connect and reconnect; this module only connects once.
 * Must never let a host whose key does not match the pin see our key used, and never keep the private
 * key beyond the handshake.
 */
import { readFile } from 'node:fs/promises';

import ssh2 from 'ssh2';
import type { Client, ClientErrorExtensions, SFTPWrapper } from 'ssh2';

import {
  AuthenticationFailed,
  ConnectionLost,
  HostKeyMismatch,
  HostUnreachable,
  SessionClosed,
  type SshError,
} from './errors.js';
import { fingerprintOf, matchesPin } from './host-key.js';
import type { SshEndpoint } from './ssh-endpoint.js';

/** One established connection; a reconnection makes a new one. */
export interface Connection {
  readonly client: Client;
  /** Set once the connection is gone; work that failed on a lost connection may be retried. */
  lost: boolean;
  /** Rejects each piece of work in flight on this connection when it is lost. */
  readonly inFlight: Set<(error: Error) => void>;
  /** Settles when the client has closed. */
  readonly gone: Promise<void>;
  sftp: Promise<SFTPWrapper> | undefined;
}

export interface ConnectOptions {
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  readonly handshakeTimeoutMs: number;
}

/** What the connector tells its session, and asks it. */
export interface ConnectHooks {
  /** A client entered (`settled` false) or left its handshake, so the session's close() can stop it. */
  handshaking(client: Client, settled: boolean): void;
  /** Whether the session was closed meanwhile (checked after the key file is read). */
  isClosed(): boolean;
  /** The connection closed after it was established. */
  disconnected(connection: Connection): void;
  log(line: string): void;
}

export const describeEndpoint = (endpoint: SshEndpoint): string =>
  `${endpoint.username}@${endpoint.address}:${endpoint.port}`;

/** One connection attempt: the established connection, or the SshError saying why there is none. */
export async function openConnection(
  endpoint: SshEndpoint,
  options: ConnectOptions,
  hooks: ConnectHooks,
): Promise<Connection> {
  const host = endpoint.host;
  let privateKey: Buffer;
  try {
    privateKey = await readFile(endpoint.privateKeyPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AuthenticationFailed(
      host,
      `cannot read the SSH private key file ${endpoint.privateKeyPath} (${code})`,
    );
  }
  if (hooks.isClosed()) throw new SessionClosed(host); // closed while the key was read
  return new Promise<Connection>((resolve, reject) => {
    const client = new ssh2.Client();
    hooks.handshaking(client, false);
    let presented: string | undefined;
    const settle = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
      hooks.handshaking(client, true);
    };
    const onError = (error: Error & ClientErrorExtensions) => {
      settle();
      client.on('error', () => undefined); // a late socket error must not crash the process
      client.destroy();
      reject(handshakeError(endpoint, error, presented));
    };
    const onClose = () => {
      settle();
      reject(
        new ConnectionLost(host, `${describeEndpoint(endpoint)} closed the connection during the handshake`),
      );
    };
    const onReady = () => {
      settle();
      // ssh2 leaves Nagle on; a console tunnel's keystrokes and small screen updates would then
      // wait for the peer's delayed ACK (tens of ms), as OpenSSH avoids for interactive sessions.
      client.setNoDelay(true);
      const gone = new Promise<void>((resolveGone) => client.once('close', () => resolveGone()));
      const connection: Connection = { client, lost: false, inFlight: new Set(), sftp: undefined, gone };
      client.on('error', (error: Error) => hooks.log(`ssh ${host}: ${error.message}`));
      client.once('close', () => hooks.disconnected(connection));
      resolve(connection);
    };
    client.once('ready', onReady);
    client.once('error', onError);
    client.once('close', onClose);
    client.connect({
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.username,
      privateKey,
      // Runs during key exchange, before authentication: a mismatching host never sees our key's use.
      hostVerifier: (keyBlob: Buffer): boolean => {
        presented = fingerprintOf(keyBlob);
        return matchesPin(presented, endpoint.hostKeyFingerprint);
      },
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      readyTimeout: options.handshakeTimeoutMs,
      // Only our key: never an agent or keyboard-interactive prompt.
      authHandler: ['publickey'],
    });
  });
}

function handshakeError(
  endpoint: SshEndpoint,
  error: Error & ClientErrorExtensions,
  presented: string | undefined,
): SshError {
  const pinned = endpoint.hostKeyFingerprint;
  if (presented !== undefined && !matchesPin(presented, pinned)) {
    return new HostKeyMismatch(endpoint.host, describeEndpoint(endpoint), pinned, presented);
  }
  if (error.level === 'client-authentication') {
    return new AuthenticationFailed(
      endpoint.host,
      `${describeEndpoint(endpoint)} refused our key for user ${endpoint.username}`,
    );
  }
  return new HostUnreachable(
    endpoint.host,
    `cannot connect to ${describeEndpoint(endpoint)}: ${error.message}`,
    {
      cause: error,
    },
  );
}

/** Marks a connection lost and fails everything in flight on it with `error`. */
export function dropConnection(connection: Connection, error: Error): void {
  connection.lost = true;
  for (const abort of [...connection.inFlight]) abort(error);
  connection.inFlight.clear();
}

/** Ends a client gracefully, destroying it if it has not closed within a second. */
export function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, 1_000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
