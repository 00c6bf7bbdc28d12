import * as ssh from '#libs/host-ssh';

import { HostUnreachable, HypervisorError, HypervisorOperationFailed, InvalidArgument } from '../errors.js';
import { clip, CommandFailed, hypervisorErrorOf, virshErrorKind } from './errors.js';

describe(virshErrorKind.name, () => {
  it.each([
    ["error: failed to get domain 'nimbus-x'\n", 'domain-not-found'],
    [
      "error: failed to get domain 'x'\nerror: Domain not found: no domain with matching name 'x'\n",
      'domain-not-found',
    ],
    ['error: Domain is already active\n', 'already-running'],
    [
      "error: Failed to destroy domain 'x'\nerror: Requested operation is not valid: domain is not running\n",
      'not-running',
    ],
    ['error: Domain is not running\n', 'not-running'],
    ['error: internal error: process exited while connecting to monitor\n', 'other'],
    ['', 'other'],
  ] as const)('reads %j as %s', (stderr, kind) => {
    expect(virshErrorKind(stderr)).toBe(kind);
  });
});

describe('adapter errors', () => {
  it('name both fingerprints when the host key does not match, and are not retryable', () => {
    const mismatch = new ssh.HostKeyMismatch('h1', '127.0.0.1:2222', 'SHA256:pinned', 'SHA256:presented');
    const error = hypervisorErrorOf(mismatch) as HostUnreachable;
    expect(error).toBeInstanceOf(HostUnreachable);
    expect(error.cause).toBe(mismatch);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('SHA256:pinned');
    expect(error.message).toContain('SHA256:presented');
  });

  it('report a failed command with its exit status and a clipped one-line stderr', () => {
    const error = new CommandFailed('h1', 'virsh start x', 1, null, 'error: boom\n\tred\n' + 'x'.repeat(900));
    expect(error).toBeInstanceOf(HypervisorOperationFailed);
    expect(error.message).toMatch(/^on h1: virsh start x exited 1: error: boom red x+…$/);
    expect(error.message.length).toBeLessThan(600);
  });

  it('clip leaves short text alone', () => {
    expect(clip('  fine \n')).toBe('fine');
  });
});

describe(hypervisorErrorOf.name, () => {
  it.each<[string, ssh.SshError, new (...args: never[]) => HypervisorError, boolean]>([
    [
      'a pin mismatch',
      new ssh.HostKeyMismatch('h1', 'u@127.0.0.1:22', 'SHA256:a', 'SHA256:b'),
      HostUnreachable,
      false,
    ],
    ['a refused key', new ssh.AuthenticationFailed('h1', 'refused'), HostUnreachable, false],
    ['a closed session', new ssh.SessionClosed('h1'), HostUnreachable, false],
    ['a lost connection', new ssh.ConnectionLost('h1', 'lost'), HostUnreachable, true],
    ['no connection in time', new ssh.HostUnreachable('h1', 'no connection'), HostUnreachable, true],
    ['a command timeout', new ssh.CommandTimedOut('h1', 'virsh event', 100), HypervisorOperationFailed, true],
    ['a refused channel', new ssh.ChannelFailed('h1', 'refused a channel'), HypervisorOperationFailed, true],
    ['an unsafe argument', new ssh.InvalidSshArgument('NUL'), InvalidArgument, false],
  ])(
    'wraps %s as the cause of the port error the agent acts on, with its message and retryability',
    (_what, error, type, retryable) => {
      const mapped = hypervisorErrorOf(error);
      expect(mapped).toBeInstanceOf(type);
      expect(mapped).toMatchObject({ message: error.message, retryable, cause: error });
      if ('host' in error) expect(mapped).toHaveProperty('host', error.host);
    },
  );

  it('passes anything else on as it is', () => {
    const other = new Error('SFTP: permission denied');
    expect(hypervisorErrorOf(other)).toBe(other);
  });
});
