import { KeypairCreated, build } from '#libs/contracts';

import { ConflictingState } from './errors.js';
import { KeypairNotFound, decideCreateKeypair, decideDeleteKeypair, keypairsReducer } from './keypair.js';
import { QuotaExceeded } from './quota.js';
import { foldAll } from './testing/given.js';

const key = (name: string) =>
  build(KeypairCreated, {
    userId: 'u-1',
    name,
    type: 'ssh',
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg0yvQ4hG8U2Yx3f1ZbRr4l1rWw2fC7Nn3F0p5J2k9s',
    fingerprint: '4e:1f:a7:2b:9c:0d:63:e8:51:7a:b4:2c:90:de:f3:18',
  });

describe('key pairs of a user', () => {
  it('refuses a second key pair of the same name', () => {
    const state = foldAll(keypairsReducer, [key('laptop')]);
    expect(() => decideCreateKeypair(state, key('laptop'), 100)).toThrow(
      new ConflictingState("Key pair 'laptop' already exists."),
    );
    expect(decideCreateKeypair(state, key('desktop'), 100)).toHaveLength(1);
  });

  it('refuses a key pair beyond the key_pairs quota', () => {
    const state = foldAll(keypairsReducer, [key('a'), key('b')]);
    expect(() => decideCreateKeypair(state, key('c'), 2)).toThrow(QuotaExceeded);
    expect(decideCreateKeypair(state, key('c'), -1)).toHaveLength(1);
  });

  it('deletes a key pair, after which its name is free and a second delete is not found', () => {
    const created = foldAll(keypairsReducer, [key('laptop')]);
    const [deleted] = decideDeleteKeypair(created, 'u-1', 'laptop');
    const state = foldAll(keypairsReducer, [key('laptop'), deleted!]);
    expect(state.keypairs).toEqual([]);
    expect(() => decideDeleteKeypair(state, 'u-1', 'laptop')).toThrow(KeypairNotFound);
    expect(decideCreateKeypair(state, key('laptop'), 100)).toHaveLength(1);
  });
});
