/**
 * SSH to the hosts Nimbus drives: one long-lived ssh2 session per host with key authentication, a
 * pinned host key, keep-alives and reconnection with backoff; commands built only from quoted
 * argument vectors; SFTP; and direct-tcpip tunnels (`forwardOut`). The compute agent runs virsh and
 * copies images through it, the console proxy tunnels to VNC servers on the hosts' loopback.
 * The only place in Nimbus that imports ssh2 (ESLint enforces it), and only those two apps import
 * this library. Must never log key material or accept a host whose key does not match its pin.
 */
export {
  AuthenticationFailed,
  ChannelFailed,
  CommandTimedOut,
  ConnectionLost,
  HostKeyMismatch,
  HostUnreachable,
  InvalidSshArgument,
  SessionClosed,
  SshError,
} from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export {
  assertFingerprint,
  fingerprintOf,
  fingerprintOfKnownHostsLine,
  isFingerprint,
  matchesPin,
} from './host-key.js';
export { quoteShellArg, shellCommandLine } from './shell-quote.js';
export {
  isAbsoluteFile,
  isPort,
  isSshAddress,
  isSshUser,
  sshEndpointProblems,
  sshEndpointsFromInventory,
  validateSshEndpoints,
  type SshEndpoint,
  type SshInventory,
  type SshOverrides,
} from './ssh-endpoint.js';
export type { ExecOptions, ExecResult } from './ssh-channels.js';
export { SshSession, type SessionStats, type SshSessionOptions } from './ssh-session.js';
/** ssh2's own types for what the session hands out, so callers never import ssh2 themselves. */
export type { ClientChannel as SshChannel, SFTPWrapper, Stats as SftpStats } from 'ssh2';
