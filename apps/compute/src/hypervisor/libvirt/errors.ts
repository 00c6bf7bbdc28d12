/**
 * Errors of the libvirt-over-SSH adapter: the SSH transport's (pin mismatch, authentication, a lost
 * connection), a command's (non-zero exit, timeout), and the reading of virsh's stderr into the kinds
 * the driver acts on. Each extends a port error (../errors.ts), so the agent needs to know only those;
 * hypervisorErrorOf turns an error of the host SSH library into its counterpart here.
 * Must never put key material in a message, and keeps quoted stderr short: it ends up in events.
 */
import * as ssh from '#libs/host-ssh';

import { HostUnreachable, InvalidArgument, HypervisorOperationFailed } from '../errors.js';

const MAX_STDERR_IN_MESSAGE = 500;

/** The host presented a key other than the pinned one: possibly an impostor, so never retried. */
export class HostKeyMismatch extends HostUnreachable {
  override readonly name = 'HostKeyMismatch';
  override readonly retryable = false;
  constructor(
    host: string,
    readonly pinned: string,
    readonly presented: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(host, message, options);
  }
}

/** The host refused the agent's key (or it cannot be read); retrying with the same key cannot help. */
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
}

/** A command ran and exited non-zero (or was killed by a signal). */
export class CommandFailed extends HypervisorOperationFailed {
  override readonly name = 'CommandFailed';
  constructor(
    host: string,
    readonly commandLine: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderr: string,
  ) {
    const status = signal === null ? `exited ${exitCode}` : `was killed by ${signal}`;
    super(host, `on ${host}: ${commandLine} ${status}: ${clip(stderr) || '(no stderr)'}`);
  }
}

export class CommandTimedOut extends HypervisorOperationFailed {
  override readonly name = 'CommandTimedOut';
  constructor(
    host: string,
    readonly commandLine: string,
    readonly timeoutMs: number,
  ) {
    super(host, `on ${host}: ${commandLine} did not finish within ${timeoutMs} ms`);
  }
}

/** What a failed virsh command's stderr says, in the terms the driver acts on. */
export type VirshErrorKind = 'domain-not-found' | 'already-running' | 'not-running' | 'other';

/**
 * Reads virsh's stderr (run with LC_ALL=C, so the English texts are stable). libvirt 9 says
 * "failed to get domain 'x'"; older releases add "Domain not found: no domain with matching name".
 */
export function virshErrorKind(stderr: string): VirshErrorKind {
  if (/failed to get domain|domain not found|no domain with matching/i.test(stderr))
    return 'domain-not-found';
  if (/domain is already (active|running)/i.test(stderr)) return 'already-running';
  if (/domain is not running|not valid: domain is not running/i.test(stderr)) return 'not-running';
  return 'other';
}

/** Stderr as one short line for a message: trimmed, control characters shown as spaces, clipped. */
export function clip(text: string): string {
  const line = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return line.length > MAX_STDERR_IN_MESSAGE ? `${line.slice(0, MAX_STDERR_IN_MESSAGE)}…` : line;
}

/**
 * The HypervisorError for an error of the host SSH library, so the agent keeps seeing only port
 * errors (with `retryable` as before); anything else (an SFTP status, a port error thrown inside an
 * SFTP callback) is returned as it is.
 */
export function hypervisorErrorOf(error: unknown): unknown {
  if (!(error instanceof ssh.SshError)) return error;
  const cause = { cause: error };
  if (error instanceof ssh.HostKeyMismatch)
    return new HostKeyMismatch(error.host, error.pinned, error.presented, error.message, cause);
  if (error instanceof ssh.AuthenticationFailed)
    return new AuthenticationFailed(error.host, error.message, cause);
  if (error instanceof ssh.SessionClosed) return new SessionClosed(error.host, error.message, cause);
  if (error instanceof ssh.ConnectionLost) return new ConnectionLost(error.host, error.message, cause);
  if (error instanceof ssh.HostUnreachable) return new HostUnreachable(error.host, error.message, cause);
  if (error instanceof ssh.CommandTimedOut)
    return new CommandTimedOut(error.host, error.commandLine, error.timeoutMs);
  if (error instanceof ssh.ChannelFailed)
    return new HypervisorOperationFailed(error.host, error.message, cause);
  return new InvalidArgument(error.message, cause);
}
