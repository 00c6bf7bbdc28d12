/**
 * The errors of the host SSH layer, in the terms a caller acts on: the host could not be reached
 * (and whether trying again may help), the connection went away under a call, the host refused a
 * channel, a command outlived its deadline, or an argument could never be sent safely.
 * The one hierarchy of SSH errors in Nimbus: callers never copy it. The compute agent wraps these as
 * the `cause` of its HypervisorErrors, the console proxy maps them to HTTP statuses; nothing here
 * knows about hypervisors or consoles.
 * Must never put key material in a message.
 */

export abstract class SshError extends Error {
  /** Whether another attempt (later, or after reconnecting) may succeed. */
  abstract readonly retryable: boolean;
}

/** A value that would reach a host (a shell argument, a host key pin, an endpoint) is unusable. */
export class InvalidSshArgument extends SshError {
  override readonly name = 'InvalidSshArgument';
  readonly retryable = false;
}

/** No connection to the host: refused, timed out, or lost; subclasses say which. */
export class HostUnreachable extends SshError {
  override readonly name: string = 'HostUnreachable';
  readonly retryable: boolean = true;
  constructor(
    readonly host: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The host presented a key other than the pinned one: possibly an impostor, so never retried. */
export class HostKeyMismatch extends HostUnreachable {
  override readonly name = 'HostKeyMismatch';
  override readonly retryable = false;
  constructor(
    host: string,
    readonly endpoint: string,
    readonly pinned: string,
    readonly presented: string,
  ) {
    super(
      host,
      `refusing SSH to ${host} (${endpoint}): it presented host key ${presented}, ` +
        `but ${pinned} is pinned for it`,
    );
  }
}

/** The host refused our key (or the key file cannot be read); retrying with the same key cannot help. */
export class AuthenticationFailed extends HostUnreachable {
  override readonly name = 'AuthenticationFailed';
  override readonly retryable = false;
}

/** The connection went away while a command or channel was using it. */
export class ConnectionLost extends HostUnreachable {
  override readonly name = 'ConnectionLost';
}

/** The session was closed by its owner; nothing more will run on it. */
export class SessionClosed extends HostUnreachable {
  override readonly name = 'SessionClosed';
  override readonly retryable = false;
  constructor(host: string) {
    super(host, `the SSH session to ${host} is closed`);
  }
}

/** The connection is up but the host refused or failed a channel: exec, SFTP or a tunnel. */
export class ChannelFailed extends SshError {
  override readonly name: string = 'ChannelFailed';
  readonly retryable: boolean = true;
  constructor(
    readonly host: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A command did not finish within its deadline; it was stopped. */
export class CommandTimedOut extends ChannelFailed {
  override readonly name = 'CommandTimedOut';
  constructor(
    host: string,
    readonly commandLine: string,
    readonly timeoutMs: number,
  ) {
    super(host, `on ${host}: ${commandLine} did not finish within ${timeoutMs} ms`);
  }
}
