/**
 * The host key pin: the SHA256 fingerprint of the one host key accepted for a host (the form
 * `ssh-keygen -l` prints and the rig's inventory records), and the check ssh2's hostVerifier runs.
 * Must never accept a key because nothing was pinned: a missing or malformed pin is a configuration
 * error, not "trust on first use".
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { InvalidSshArgument } from './errors.js';

/** `SHA256:` and 43 characters of unpadded base64 (a 32-byte digest). */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The fingerprint of a host key blob as it travels in the SSH handshake. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export function isFingerprint(pin: unknown): pin is string {
  return typeof pin === 'string' && FINGERPRINT.test(pin);
}

export function assertFingerprint(pin: string): string {
  if (!isFingerprint(pin)) {
    throw new InvalidSshArgument(
      'a host key pin must be a SHA256 fingerprint (SHA256: and 43 base64 characters)',
    );
  }
  return pin;
}

/**
 * The fingerprint of the key in a known_hosts line (`host keytype base64`), for configurations that
 * carry the line rather than the fingerprint. The key blob must name its own type, as real ones do.
 */
export function fingerprintOfKnownHostsLine(line: string): string {
  const [, type, base64] = line.trim().split(/\s+/);
  const blob = Buffer.from(base64 ?? '', 'base64');
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  if (!type || !base64 || blob.subarray(4, 4 + nameLength).toString('latin1') !== type) {
    throw new InvalidSshArgument('not a known_hosts line with a public key');
  }
  return fingerprintOf(blob);
}

/** Whether a presented fingerprint is the pinned one (compared in constant time, out of habit). */
export function matchesPin(presented: string, pinned: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(pinned);
  return a.length === b.length && timingSafeEqual(a, b);
}
