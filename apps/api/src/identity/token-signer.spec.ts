import { describe, expect, it } from '@jest/globals';

import { hashPassword, verifyPassword } from './passwords.js';
import { TokenSigner, type TokenClaims } from './token-signer.js';

const key = Buffer.from('k'.repeat(48));
const claims: TokenClaims = {
  u: 'user',
  p: 'project',
  a: TokenSigner.newAuditId(),
  i: 1_000,
  e: 2_000,
  m: ['password'],
};

describe(TokenSigner.name, () => {
  const signer = new TokenSigner(key);

  it('verifies its own token until it expires', () => {
    const token = signer.sign(claims);
    expect(signer.verify(token, new Date(1_500_000))).toEqual(claims);
    expect(signer.verify(token, new Date(2_000_000))).toBeNull();
  });

  it('refuses a token signed with another key, or with its claims changed', () => {
    const token = signer.sign(claims);
    expect(new TokenSigner(Buffer.from('o'.repeat(48))).verify(token, new Date(1_500_000))).toBeNull();
    const [prefix, , mac] = token.split('.');
    const forged = `${prefix}.${Buffer.from(JSON.stringify({ ...claims, p: 'other' })).toString('base64url')}.${mac}`;
    expect(signer.verify(forged, new Date(1_500_000))).toBeNull();
  });

  it('refuses what is not a token at all', () => {
    for (const junk of ['', 'nmb1', 'nmb1..', 'gAAAAA', 'nmb1.e30.AAAA', `nmb1.${'A'.repeat(5000)}.x`]) {
      expect(signer.verify(junk, new Date(1_500_000))).toBeNull();
    }
  });

  it('makes audit ids as Keystone does: 22 characters of URL-safe base64', () => {
    expect(TokenSigner.newAuditId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('refuses a short key', () => {
    expect(() => new TokenSigner(Buffer.from('short'))).toThrow(/at least 32 bytes/);
  });
});

describe('passwords', () => {
  it('hash with a fresh salt each time and verify only the right password', async () => {
    const first = await hashPassword('correct horse');
    const second = await hashPassword('correct horse');
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('correct horse', first)).toBe(true);
    expect(await verifyPassword('Correct horse', first)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});
