import { createHash, randomBytes } from 'node:crypto';

import { hashPrefix, parseUpgradeTarget, tokenHashOf } from './token.js';

const token = randomBytes(32).toString('base64url');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe(parseUpgradeTarget.name, () => {
  it('takes the token from the query of `/` and gives only its SHA-256, as the compute agent stored it', () => {
    expect(parseUpgradeTarget(`/?token=${token}`)).toEqual({ ok: true, tokenHash: sha256(token) });
    expect(tokenHashOf(token)).toBe(sha256(token));
  });

  it.each([
    ['no query', '/'],
    ['another parameter', '/?path=x'],
    ['an empty token', '/?token='],
  ])('calls %s a missing token', (_what, target) => {
    expect(parseUpgradeTarget(target)).toEqual({ ok: false, reason: 'token missing' });
  });

  it.each([
    ['too short (under 128 bits)', `/?token=${'a'.repeat(21)}`],
    ['too long', `/?token=${'a'.repeat(129)}`],
    ['padding', `/?token=${token}=`],
    ['a character outside base64url', `/?token=${token.slice(0, -1)}+`],
    ['a space', `/?token=${token.slice(0, 20)}%20${token.slice(21)}`],
    ['two tokens', `/?token=${token}&token=${token}`],
  ])('calls a token with %s malformed', (_what, target) => {
    expect(parseUpgradeTarget(target)).toEqual({ ok: false, reason: 'token malformed' });
  });

  it.each([['/websockify?token=x'], ['/vnc_lite.html?token=x'], ['//evil/?token=x'], [undefined]])(
    'answers %s as not the console endpoint',
    (target) => {
      expect(parseUpgradeTarget(target)).toEqual({ ok: false, reason: 'not-found' });
    },
  );

  it('never puts the token itself in what it returns', () => {
    const results = [`/?token=${token}`, `/?token=${token}!`].map((target) =>
      JSON.stringify(parseUpgradeTarget(target)),
    );
    for (const result of results) expect(result).not.toContain(token);
  });
});

describe(hashPrefix.name, () => {
  it('keeps the first 8 hex digits of a hash, all a log line may show', () => {
    expect(hashPrefix(sha256(token))).toBe(sha256(token).slice(0, 8));
  });
});
