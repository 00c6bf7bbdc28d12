/**
 * One long-lived SSH connection to one host, shared by every command, SFTP transfer and tunnel its
 * owner opens to it (the compute agent's virsh and image copies, the console proxy's VNC tunnels):
 * when to connect and reconnect (exponential backoff and jitter), how long a call waits for a
 * connection, which work runs again after a loss, and how many commands run at once. Opening a
 * connection is ssh-connection.ts; the channels on it are ssh-channels.ts.
 * Must never send a command to a host whose key does not match the pin, never build a command line
 * except through shellCommandLine, and never log or keep the private key beyond the handshake.
 */
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';

import { Semaphore } from '#libs/concurrency';

import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { ConnectionLost, HostUnreachable, SessionClosed, SshError } from './errors.js';
import { shellCommandLine } from './shell-quote.js';
import { openTunnel, runCommand, sftpOf, type ExecOptions, type ExecResult } from './ssh-channels.js';
import {
  describeEndpoint,
  dropConnection,
  endClient,
  openConnection,
  type Connection,
} from './ssh-connection.js';
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
};

/** Attempts per call when the connection keeps dropping under it. */
const MAX_ATTEMPTS = 3;

/** How long a retry waits for the client to notice a loss that a channel reported first. */
const DROP_NOTICE_MS = 1_000;

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
        runCommand(connection, this.host, commandLine, options),
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
      const sftp = await sftpOf(connection, this.host);
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
    return this.withConnection(`a tunnel to ${address}:${port}`, true, (connection) =>
      openTunnel(connection, this.host, address, port),
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
      dropConnection(connection, new SessionClosed(this.host));
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

  private connectOnce(): Promise<Connection> {
    return openConnection(this.endpoint, this.options, {
      handshaking: (client, settled) => {
        if (!settled) this.handshaking = client;
        else if (this.handshaking === client) this.handshaking = undefined;
      },
      isClosed: () => this.isClosed(),
      disconnected: (connection) => this.onDisconnect(connection),
      log: this.log,
    });
  }

  private onDisconnect(connection: Connection): void {
    if (connection.lost) return;
    dropConnection(connection, new ConnectionLost(this.host, `lost the SSH connection to ${this.host}`));
    if (this.connection === connection) this.connection = undefined;
    if (this.closed) return;
    this.log(`ssh ${this.host}: connection lost; reconnecting`);
    void this.ensureConnecting();
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
    return describeEndpoint(this.endpoint);
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
