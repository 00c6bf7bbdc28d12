import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { generateEd25519, parsePublicKey } from '../src/compute/keypairs/ssh-keys.js';

describe('ssh keys', () => {
  it('generates an ed25519 pair whose private key OpenSSH reads back to the same public key', () => {
    const pair = generateEd25519('test@nimbus');
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ test@nimbus$/);
    expect(parsePublicKey(pair.publicKey)?.fingerprint).toBe(pair.fingerprint);
    const folder = mkdtempSync(join(tmpdir(), 'nimbus-key-'));
    try {
      const file = join(folder, 'id');
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file]).toString().trim();
      expect(derived.split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("computes Nova's fingerprint (MD5 of the key blob) and refuses what is not a key", () => {
    const rsa =
      'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHmUCAwEAAQ5Z5pWQ2Z3Cq9n1wz3l6qZJ8qK5c3lXm9aN1Ku8H3z0GIAGJbYb0pUKfEj4dbp8lT9oM9mGpLyEE4GdHvtApAXy3MRwi1KLxF8tkf4CmJtKRFvE9uM5WtKjP4nR3x3bJ8Fw== rsa@host';
    expect(parsePublicKey(rsa)?.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(parsePublicKey('ssh-rsa notbase64!')).toBeNull();
    expect(parsePublicKey('ssh-dss AAAAC3NzaC1lZDI1NTE5AAAAIGg0')).toBeNull();
    expect(parsePublicKey('')).toBeNull();
  });
});
