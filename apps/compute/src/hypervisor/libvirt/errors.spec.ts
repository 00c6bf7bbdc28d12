import { HostUnreachable, HypervisorOperationFailed } from '../errors.js';
import { clip, CommandFailed, HostKeyMismatch, virshErrorKind } from './errors.js';

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
    const error = new HostKeyMismatch('h1', '127.0.0.1:2222', 'SHA256:pinned', 'SHA256:presented');
    expect(error).toBeInstanceOf(HostUnreachable);
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
