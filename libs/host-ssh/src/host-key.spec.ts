import { generateKeyPairSync } from 'node:crypto';

import { InvalidSshArgument } from './errors.js';
import { assertFingerprint, fingerprintOf, fingerprintOfKnownHostsLine, matchesPin } from './host-key.js';

/** An ed25519 public key as an SSH key blob: string "ssh-ed25519", string key (RFC 8709). */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  return Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
}

describe('host key pinning', () => {
  it('fingerprints a key blob the way ssh-keygen -l does: SHA256 and unpadded base64', () => {
    // The blob of "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCk2I1/mMYw/lQcdynlLj4uVAsUKMfIoz91sm9oCtMN",
    // which ssh-keygen -l -E sha256 prints as below.
    const blob = Buffer.from(
      'AAAAC3NzaC1lZDI1NTE5AAAAIGCk2I1/mMYw/lQcdynlLj4uVAsUKMfIoz91sm9oCtMN',
      'base64',
    );
    expect(fingerprintOf(blob)).toBe('SHA256:MiU8n3RpjxOQlfyBGX72HSCmcGuLetnCiMf2TsP/kLc');
  });

  it('reads the pin from a known_hosts line and refuses lines without a real key', () => {
    const blob = ed25519Blob();
    const line = `[127.0.0.1]:2222 ssh-ed25519 ${blob.toString('base64')}`;
    expect(fingerprintOfKnownHostsLine(line)).toBe(fingerprintOf(blob));
    expect(() => fingerprintOfKnownHostsLine('[127.0.0.1]:2222 ssh-rsa ' + blob.toString('base64'))).toThrow(
      InvalidSshArgument,
    );
    expect(() => fingerprintOfKnownHostsLine('host only')).toThrow(InvalidSshArgument);
  });

  it('matches only the pinned fingerprint', () => {
    const pinned = fingerprintOf(ed25519Blob());
    expect(matchesPin(pinned, pinned)).toBe(true);
    expect(matchesPin(fingerprintOf(ed25519Blob()), pinned)).toBe(false);
    expect(matchesPin('', pinned)).toBe(false);
    expect(matchesPin(pinned.slice(0, -1), pinned)).toBe(false);
  });

  it('refuses a pin that is not a SHA256 fingerprint, so nothing is ever trusted on first use', () => {
    expect(assertFingerprint(fingerprintOf(ed25519Blob()))).toMatch(/^SHA256:/);
    for (const bad of ['', 'SHA256:', 'MD5:aa:bb', 'SHA256:short', `SHA256:${'A'.repeat(44)}`]) {
      expect(() => assertFingerprint(bad)).toThrow(InvalidSshArgument);
    }
  });
});
