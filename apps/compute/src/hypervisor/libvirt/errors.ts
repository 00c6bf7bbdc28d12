/**
 * Errors of the libvirt-over-SSH adapter: a virsh command that exited non-zero, the reading of virsh's
 * stderr into the kinds the driver acts on, and the wrapping of the SSH transport's errors (pin
 * mismatch, authentication, a lost connection, a command deadline) as the `cause` of a port error
 * (../errors.ts), so the agent needs to know only those and the SSH errors are declared once, in
 * libs/host-ssh. Must never put key material in a message, and keeps quoted stderr short: it ends up
 * in events.
 */
import * as ssh from '#libs/host-ssh';

import { HostUnreachable, InvalidArgument, HypervisorOperationFailed } from '../errors.js';

const MAX_STDERR_IN_MESSAGE = 500;

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
 * The port error for an error of the host SSH library, which stays its `cause` (`HostKeyMismatch`,
 * `CommandTimedOut`, ...: one hierarchy, in libs/host-ssh) with its message and `retryable`: the host
 * not reachable is HostUnreachable, a failed channel or command deadline HypervisorOperationFailed,
 * an unsafe argument InvalidArgument. Anything else (an SFTP status, a port error thrown inside an
 * SFTP callback) is returned as it is.
 */
export function hypervisorErrorOf(error: unknown): unknown {
  if (!(error instanceof ssh.SshError)) return error;
  const wrapped = { cause: error, retryable: error.retryable };
  if (error instanceof ssh.HostUnreachable) return new HostUnreachable(error.host, error.message, wrapped);
  if (error instanceof ssh.ChannelFailed)
    return new HypervisorOperationFailed(error.host, error.message, wrapped);
  return new InvalidArgument(error.message, { cause: error });
}
