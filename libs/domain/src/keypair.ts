/**
 * The key pairs of one user, as the fold of `keypair-<user id>`: names are unique per user and their number
 * is bounded by the key_pairs quota, both decided on the fold and appended at its revision, so two
 * concurrent creates of one name cannot both win.
 * Pure: no I/O, no clock. Key material is generated and checked outside; this sees public keys only.
 */
import {
  type DecodedEvent,
  KeypairCreated,
  KeypairDeleted,
  type KeypairEvent,
  type KeypairType,
  type Plain,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { ConflictingState, DomainError } from './errors.js';
import { QuotaExceeded } from './quota.js';

export class KeypairNotFound extends DomainError {
  override readonly name = 'KeypairNotFound';
  readonly code = 'NotFound' as const;
  constructor(
    readonly keypairName: string,
    readonly userId: string,
  ) {
    super(`Keypair ${keypairName} not found for user ${userId}`);
  }
}

export interface Keypair {
  readonly name: string;
  readonly type: KeypairType;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly createdAt: string;
}

export interface KeypairsState {
  readonly userId: string;
  /** In creation order. */
  readonly keypairs: readonly Keypair[];
}

export const initialKeypairs = (): KeypairsState => ({ userId: '', keypairs: [] });

export function evolveKeypairs(state: KeypairsState, event: DecodedEvent): KeypairsState {
  if (!isKnownEvent(event)) return state;
  const keypairEvent = event as KeypairEvent;
  switch (keypairEvent.type) {
    case 'KeypairCreated': {
      const { userId, name, type, publicKey, fingerprint } = keypairEvent.data;
      const createdAt = event.metadata.occurredAt;
      return { userId, keypairs: [...state.keypairs, { name, type, publicKey, fingerprint, createdAt }] };
    }
    case 'KeypairDeleted':
      return {
        ...state,
        keypairs: state.keypairs.filter((keypair) => keypair.name !== keypairEvent.data.name),
      };
  }
  return state;
}

export const keypairsReducer = { initial: initialKeypairs, evolve: evolveKeypairs };

/** `limit` is the user's key_pairs quota; -1 is unlimited. */
export function decideCreateKeypair(
  state: KeypairsState,
  keypair: Plain<KeypairCreated>,
  limit: number,
): KeypairCreated[] {
  if (state.keypairs.some((existing) => existing.name === keypair.name)) {
    throw new ConflictingState(`Key pair '${keypair.name}' already exists.`);
  }
  if (limit >= 0 && state.keypairs.length >= limit)
    throw new QuotaExceeded('Quota exceeded, too many key pairs.');
  return [build(KeypairCreated, keypair)];
}

export function decideDeleteKeypair(state: KeypairsState, userId: string, name: string): KeypairDeleted[] {
  if (!state.keypairs.some((keypair) => keypair.name === name)) throw new KeypairNotFound(name, userId);
  return [build(KeypairDeleted, { userId, name })];
}
