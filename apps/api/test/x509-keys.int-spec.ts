import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { generateX509, parseCertificate } from '../src/compute/keypairs/x509-keys.js';

const openssl = (args: string[], input?: string): string =>
  execFileSync('openssl', args, { input, encoding: 'utf8' }).trim();

describe('x509 key pairs', () => {
  it('generates a key and a self-signed certificate for it that OpenSSL reads, naming the user and project', async () => {
    const pair = await generateX509('6b8d0f2a4c6e48a0b2d4f6a8c0e2a4b6', 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
    expect(pair.publicKey).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
    expect(pair.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], pair.publicKey)).toBe(
      'subject=CN=6b8d0f2a4c6e48a0b2d4f6a8c0e2a4b6,OU=a1b2c3d4e5f60718293a4b5c6d7e8f90,O=Nimbus',
    );
    // Nova's fingerprint is OpenSSL's SHA-1 one, lowercase.
    const sha1 = openssl(['x509', '-noout', '-fingerprint', '-sha1'], pair.publicKey).split('=')[1];
    expect(pair.fingerprint).toBe(sha1?.toLowerCase());
    expect(parseCertificate(pair.publicKey)?.fingerprint).toBe(pair.fingerprint);
    // The private key is the certificate's: their public keys are one.
    const folder = mkdtempSync(join(tmpdir(), 'nimbus-x509-'));
    try {
      const keyFile = join(folder, 'key.pem');
      writeFileSync(keyFile, pair.privateKey, { mode: 0o600 });
      const fromKey = openssl(['pkey', '-in', keyFile, '-pubout']);
      expect(openssl(['x509', '-noout', '-pubkey'], pair.publicKey)).toBe(fromKey);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    await expect(generateX509('a b', 'p')).rejects.toThrow('by id');
  });

  it('reads an imported certificate and refuses what is not one', () => {
    expect(parseCertificate('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----')).toBeNull();
    expect(parseCertificate('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg0')).toBeNull();
    expect(parseCertificate('')).toBeNull();
  });
});
