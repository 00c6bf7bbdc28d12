/**
 * One long-lived SSH connection to one host, shared by every command, SFTP transfer and tunnel its
 * owner opens to it (the compute agent's virsh and image copies, the console proxy's VNC tunnels):
 * key authentication, the host key checked against its pin before anything is sent, keep-alives,
 * and reconnection with exponential backoff and jitter. Calls made while it reconnects wait for the
 * connection, up to a deadline.
 * Must never send a command to a host whose key does not match the pin, never build a command line
 * except through shellCommandLine, and never log or keep the private key beyond the handshake.
 */
import { readFile } from 'node:fs/promises';

import ssh2 from 'ssh2';
import type { Client, ClientChannel, ClientErrorExtensions, SFTPWrapper } from 'ssh2';

import { Semaphore } from '#libs/concurrency';

import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import {
  AuthenticationFailed,
  ChannelFailed,
  CommandTimedOut,
  ConnectionLost,
  HostKeyMismatch,
  HostUnreachable,
  SessionClosed,
  SshError,
} from './errors.js';
import { fingerprintOf, matchesPin } from './host-key.js';
import { shellCommandLine } from './shell-quote.js';
import type { SshEndpoint } from './ssh-endpoint.js';

export interface SshSessionOptions {
  /** SSH-level keep-alive period; a silent peer is declared dead after keepaliveCountMax misses. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** How long one handshake (TCP connect, key exchange, authentication) may take. */
  readonly handshakeTimeoutMs?: number;
  /** How long a call waits for a connection (across reconnection attempts) before HostUnreachable. */
  readonly connectWaitMs?: number;
  /**
   * Exec channels open at once. OpenSSH's default MaxSessions is 10 per connection and the SFTP channel
   * takes one, so 8 leaves room; more commands queue here instead of being refused by sshd.
   */
  readonly maxConcurrentCommands?: number;
  readonly backoff?: BackoffPolicy;
  /** The jitter's random source (tests pass a fixed one). */
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}

export interface ExecOptions {
  /** From the moment the command's channel is requested. */
  readonly timeoutMs: number;
  /** Written to the command's stdin, which is then closed (it is closed at once without this). */
  readonly stdin?: string | Buffer;
  /**
   * Run the command again on a new connection when the connection is lost while it runs. Only for
   * commands that are safe to repeat: the first run may or may not have taken effect.
   */
  readonly idempotent: boolean;
  /** Output beyond this is an error (the command is stopped), so a runaway command cannot fill memory. */
  readonly maxOutputBytes?: number;
}

export interface ExecResult {
  readonly commandLine: string;
  /** null when the command was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SessionStats {
  readonly connected: boolean;
  /** Successful connections so far: 1 after the first, +1 per reconnection. */
  readonly connects: number;
  readonly lastError: string | undefined;
}

const DEFAULTS = {
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  handshakeTimeoutMs: 10_000,
  connectWaitMs: 20_000,
  maxConcurrentCommands: 8,
  maxOutputBytes: 4 * 1024 * 1024,
};

/** Attempts per call when the connection keeps dropping under it. */
const MAX_ATTEMPTS = 3;

/** How long a retry waits for the client to notice a loss that a channel reported first. */
const DROP_NOTICE_MS = 1_000;

/** One established connection; a reconnection makes a new one. */
interface Connection {
  readonly client: Client;
  /** Set once the connection is gone; work that failed on a lost connection may be retried. */
  lost: boolean;
  /** Rejects each piece of work in flight on this connection when it is lost. */
  readonly inFlight: Set<(error: Error) => void>;
  /** Settles when the client has closed. */
  readonly gone: Promise<void>;
  sftp: Promise<SFTPWrapper> | undefined;
}

export class SshSession {
  private readonly options: Required<Omit<SshSessionOptions, 'log' | 'random' | 'backoff'>>;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly log: (line: string) => void;
  private readonly commandSlots: Semaphore;

  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** A client still in its handshake, so close() can stop it. */
  private handshaking: Client | undefined;
  private closed = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: Error | undefined;
  private connects = 0;
  private wakeUp: (() => void) | undefined;

  constructor(
    readonly endpoint: SshEndpoint,
    options: SshSessionOptions = {},
  ) {
    this.options = {
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      connectWaitMs: options.connectWaitMs ?? DEFAULTS.connectWaitMs,
      maxConcurrentCommands: options.maxConcurrentCommands ?? DEFAULTS.maxConcurrentCommands,
    };
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => undefined);
    this.commandSlots = new Semaphore(this.options.maxConcurrentCommands);
  }

  get host(): string {
    return this.endpoint.host;
  }

  stats(): SessionStats {
    return {
      connected: this.connection !== undefined,
      connects: this.connects,
      lastError: this.lastError?.message,
    };
  }

  /**
   * Runs a command and resolves with its exit status and output, whatever the status; rejects only
   * when it could not run to the end (no connection, lost connection, timeout, too much output).
   */
  async exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    const commandLine = shellCommandLine(argv);
    const release = await this.commandSlots.acquire();
    try {
      return await this.withConnection(commandLine, options.idempotent, (connection) =>
        this.run(connection, commandLine, options),
      );
    } finally {
      release();
    }
  }

  /**
   * Runs `work` with this connection's SFTP channel (opened once per connection). With `idempotent`,
   * work cut short by a lost connection is run again on the next one.
   */
  async withSftp<T>(what: string, idempotent: boolean, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.withConnection(what, idempotent, async (connection) => {
      const sftp = await this.sftpOf(connection);
      try {
        return await work(sftp);
      } catch (error) {
        // SFTP requests cut off by a disconnect fail with ssh2's generic errors; say what happened.
        if (connection.lost && !(error instanceof ConnectionLost)) {
          throw new ConnectionLost(this.host, `lost the connection to ${this.host} during ${what}`, {
            cause: error,
          });
        }
        throw error;
      }
    });
  }

  /** A TCP stream to `address:port` as seen from the host (an SSH direct-tcpip channel). */
  async forwardOut(address: string, port: number): Promise<ClientChannel> {
    return this.withConnection(
      `a tunnel to ${address}:${port}`,
      true,
      (connection) =>
        new Promise<ClientChannel>((resolve, reject) => {
          connection.client.forwardOut('127.0.0.1', 0, address, port, (error, channel) => {
            if (error) {
              reject(
                connection.lost
                  ? new ConnectionLost(this.host, `lost the connection to ${this.host} opening a tunnel`)
                  : new ChannelFailed(
                      this.host,
                      `${this.host} refused a tunnel to ${address}:${port}: ${error.message}`,
                    ),
              );
            } else resolve(channel);
          });
        }),
    );
  }

  /** Ends the connection and any reconnection; calls in flight fail with SessionClosed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    this.handshaking?.destroy();
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      this.dropConnection(connection, new SessionClosed(this.host));
      await endClient(connection.client);
    }
    await this.connecting?.catch(() => undefined);
  }

  private async withConnection<T>(
    what: string,
    idempotent: boolean,
    work: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const connection = await this.acquire();
      try {
        return await work(connection);
      } catch (error) {
        const retry = error instanceof ConnectionLost && idempotent && attempt < MAX_ATTEMPTS && !this.closed;
        if (!retry) throw error;
        this.log(`ssh ${this.host}: connection lost during ${what}; running it again after reconnecting`);
        // A channel can report the loss a moment before the client does; retrying on the dying client
        // would only use up an attempt.
        await settledWithin(connection.gone, DROP_NOTICE_MS);
      }
    }
  }

  /** The live connection, or the next one, waiting at most connectWaitMs for it. */
  private async acquire(): Promise<Connection> {
    if (this.closed) throw new SessionClosed(this.host);
    if (this.connection && !this.connection.lost) return this.connection;
    const waitMs = this.options.connectWaitMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = this.lastError ? `; last attempt: ${this.lastError.message}` : '';
        reject(
          new HostUnreachable(
            this.host,
            `no SSH connection to ${this.host} (${this.describeEndpoint()}) within ${waitMs} ms${last}`,
          ),
        );
      }, waitMs);
    });
    try {
      return await Promise.race([this.ensureConnecting(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private ensureConnecting(): Promise<Connection> {
    if (this.connecting === undefined) {
      const loop: Promise<Connection> = this.connectLoop().finally(() => {
        if (this.connecting === loop) this.connecting = undefined;
      });
      // A reconnection started after a drop may have nobody waiting for it yet.
      loop.catch(() => undefined);
      this.connecting = loop;
    }
    return this.connecting;
  }

  /**
   * Attempts until one succeeds, spacing them by the backoff policy. A refused host key or key is not
   * retried: the loop ends and every waiter gets that error at once (a later call starts a new loop,
   * still spaced by the backoff).
   */
  private async connectLoop(): Promise<Connection> {
    for (;;) {
      if (this.isClosed()) throw new SessionClosed(this.host);
      const waitMs = this.nextAttemptAt - Date.now();
      if (waitMs > 0) await this.sleep(waitMs);
      if (this.isClosed()) throw new SessionClosed(this.host);
      try {
        const connection = await this.connectOnce();
        if (this.isClosed()) {
          await endClient(connection.client);
          throw new SessionClosed(this.host);
        }
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
        this.connects += 1;
        this.connection = connection;
        if (this.connects > 1) this.log(`ssh ${this.host}: reconnected (connection ${this.connects})`);
        return connection;
      } catch (error) {
        if (error instanceof SessionClosed) throw error;
        const failure = error instanceof Error ? error : new Error(String(error));
        this.lastError = failure;
        this.failures += 1;
        const delay = backoffDelay(this.failures, this.backoff, this.random);
        this.nextAttemptAt = Date.now() + delay;
        this.log(`ssh ${this.host}: connection attempt ${this.failures} failed: ${failure.message}`);
        if (failure instanceof SshError && !failure.retryable) throw failure;
      }
    }
  }

  private async connectOnce(): Promise<Connection> {
    let privateKey: Buffer;
    try {
      privateKey = await readFile(this.endpoint.privateKeyPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AuthenticationFailed(
        this.host,
        `cannot read the SSH private key file ${this.endpoint.privateKeyPath} (${code})`,
      );
    }
    if (this.isClosed()) throw new SessionClosed(this.host); // closed while the key was read
    return new Promise<Connection>((resolve, reject) => {
      const client = new ssh2.Client();
      this.handshaking = client;
      let presented: string | undefined;
      const settle = () => {
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('close', onClose);
        if (this.handshaking === client) this.handshaking = undefined;
      };
      const onError = (error: Error & ClientErrorExtensions) => {
        settle();
        client.on('error', () => undefined); // a late socket error must not crash the process
        client.destroy();
        reject(this.handshakeError(error, presented));
      };
      const onClose = () => {
        settle();
        reject(
          new ConnectionLost(
            this.host,
            `${this.describeEndpoint()} closed the connection during the handshake`,
          ),
        );
      };
      const onReady = () => {
        settle();
        // ssh2 leaves Nagle on; a console tunnel's keystrokes and small screen updates would then
        // wait for the peer's delayed ACK (tens of ms), as OpenSSH avoids for interactive sessions.
        client.setNoDelay(true);
        const gone = new Promise<void>((resolveGone) => client.once('close', () => resolveGone()));
        const connection: Connection = { client, lost: false, inFlight: new Set(), sftp: undefined, gone };
        client.on('error', (error: Error) => this.log(`ssh ${this.host}: ${error.message}`));
        client.once('close', () => this.onDisconnect(connection));
        resolve(connection);
      };
      client.once('ready', onReady);
      client.once('error', onError);
      client.once('close', onClose);
      client.connect({
        host: this.endpoint.address,
        port: this.endpoint.port,
        username: this.endpoint.username,
        privateKey,
        // Runs during key exchange, before authentication: a mismatching host never sees our key's use.
        hostVerifier: (keyBlob: Buffer): boolean => {
          presented = fingerprintOf(keyBlob);
          return matchesPin(presented, this.endpoint.hostKeyFingerprint);
        },
        keepaliveInterval: this.options.keepaliveIntervalMs,
        keepaliveCountMax: this.options.keepaliveCountMax,
        readyTimeout: this.options.handshakeTimeoutMs,
        // Only our key: never an agent or keyboard-interactive prompt.
        authHandler: ['publickey'],
      });
    });
  }

  private handshakeError(error: Error & ClientErrorExtensions, presented: string | undefined): SshError {
    const pinned = this.endpoint.hostKeyFingerprint;
    if (presented !== undefined && !matchesPin(presented, pinned)) {
      return new HostKeyMismatch(this.host, this.describeEndpoint(), pinned, presented);
    }
    if (error.level === 'client-authentication') {
      return new AuthenticationFailed(
        this.host,
        `${this.describeEndpoint()} refused our key for user ${this.endpoint.username}`,
      );
    }
    return new HostUnreachable(this.host, `cannot connect to ${this.describeEndpoint()}: ${error.message}`, {
      cause: error,
    });
  }

  private onDisconnect(connection: Connection): void {
    if (connection.lost) return;
    this.dropConnection(connection, new ConnectionLost(this.host, `lost the SSH connection to ${this.host}`));
    if (this.connection === connection) this.connection = undefined;
    if (this.closed) return;
    this.log(`ssh ${this.host}: connection lost; reconnecting`);
    void this.ensureConnecting();
  }

  private dropConnection(connection: Connection, error: Error): void {
    connection.lost = true;
    for (const abort of [...connection.inFlight]) abort(error);
    connection.inFlight.clear();
  }

  private async sftpOf(connection: Connection): Promise<SFTPWrapper> {
    connection.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
      connection.client.sftp((error, sftp) => {
        if (error) {
          connection.sftp = undefined;
          reject(
            connection.lost
              ? new ConnectionLost(this.host, `lost the connection to ${this.host} opening SFTP`)
              : new ChannelFailed(this.host, `${this.host} refused SFTP: ${error.message}`),
          );
          return;
        }
        sftp.once('close', () => {
          connection.sftp = undefined;
        });
        resolve(sftp);
      });
    });
    return connection.sftp;
  }

  private run(connection: Connection, commandLine: string, options: ExecOptions): Promise<ExecResult> {
    const maxOutput = options.maxOutputBytes ?? DEFAULTS.maxOutputBytes;
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connection.inFlight.delete(abort);
        outcome();
      };
      const abort = (error: Error) => {
        finish(() => reject(error));
        stopChannel(channel);
      };
      connection.inFlight.add(abort);
      const timer = setTimeout(
        () => abort(new CommandTimedOut(this.host, commandLine, options.timeoutMs)),
        options.timeoutMs,
      );

      const onChannel = (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          abort(
            connection.lost
              ? new ConnectionLost(this.host, `lost the connection to ${this.host} before ${commandLine} ran`)
              : new ChannelFailed(this.host, `${this.host} refused a channel: ${error.message}`),
          );
          return;
        }
        channel = stream;
        if (settled) {
          stopChannel(stream);
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let bytes = 0;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxOutput) {
            abort(new ChannelFailed(this.host, `${commandLine} printed more than ${maxOutput} bytes`));
          } else into.push(chunk);
        };
        let exit: { code: number | null; signal: string | null } | undefined;
        stream.on('data', collect(stdout));
        stream.stderr.on('data', collect(stderr));
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, signal: signal ?? null };
        });
        stream.once('close', () => {
          if (exit === undefined) {
            // No exit status: sshd went away (or the connection did) while the command ran.
            abort(
              new ConnectionLost(this.host, `the connection to ${this.host} ended while ${commandLine} ran`),
            );
            return;
          }
          const status = exit;
          finish(() =>
            resolve({
              commandLine,
              exitCode: status.code,
              signal: status.signal,
              stdout: Buffer.concat(stdout).toString('utf8'),
              stderr: Buffer.concat(stderr).toString('utf8'),
            }),
          );
        });
        stream.end(options.stdin);
      };

      try {
        connection.client.exec(commandLine, onChannel);
      } catch (error) {
        // ssh2 throws at once when the socket is already gone.
        abort(
          new ConnectionLost(this.host, `no connection to ${this.host} for ${commandLine}`, { cause: error }),
        );
      }
    });
  }

  /** Waits between attempts; close() cuts the wait short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** A method, not the field: close() may flip it while a loop awaits, which narrowing cannot see. */
  private isClosed(): boolean {
    return this.closed;
  }

  private describeEndpoint(): string {
    return `${this.endpoint.username}@${this.endpoint.address}:${this.endpoint.port}`;
  }
}

/** Waits for a promise to settle, but no longer than `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([
      promise.then(
        () => undefined,
        () => undefined,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a command channel: a KILL signal where sshd honours it, then the channel closed. */
function stopChannel(channel: ClientChannel | undefined): void {
  if (!channel) return;
  try {
    channel.signal('KILL');
  } catch {
    // The channel may already be closing; closing it below is what matters.
  }
  channel.close();
}

/** Ends a client gracefully, destroying it if it has not closed within a second. */
function endClient(client: Client): Promise<void> {
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
