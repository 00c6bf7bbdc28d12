/**
 * Events of the `keypair-<user id>` stream: every key pair of one user (Nova's key pairs belong to a user,
 * and names are unique per user), so the stream's fold answers "may this name be used" and "how many".
 * Must never hold a private key: a generated one is returned once, to the requester, and forgotten.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
import { IsKeyName, IsKeystoneId, IsOneOf, IsPattern } from '../validation.js';

export const KEYPAIR_TYPES = ['ssh', 'x509'] as const;
export type KeypairType = (typeof KEYPAIR_TYPES)[number];

@DomainEvent({ type: 'KeypairCreated', version: 2, category: 'keypair' })
export class KeypairCreated {
  /** The owner (Nova's `user_id` of the key pair). */
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeyName()
  readonly name!: string;

  @IsOneOf(KEYPAIR_TYPES)
  readonly type!: KeypairType;

  /** ssh: OpenSSH's one-line form (`ssh-ed25519 AAAA... comment`); x509: the certificate in PEM. */
  @IsPattern(/^[\x20-\x7e\r\n]+$/, 'an OpenSSH public key line or a PEM certificate', 16_384)
  readonly publicKey!: string;

  /**
   * Nova's fingerprint, in colon-separated hex: ssh, MD5 of the key blob; x509, SHA-1 of the
   * certificate's DER bytes.
   */
  @IsPattern(
    /^([0-9a-f]{2}:){15}[0-9a-f]{2}$|^([0-9a-f]{2}:){19}[0-9a-f]{2}$/,
    'an MD5 or SHA-1 fingerprint in colon-separated hex',
    59,
  )
  readonly fingerprint!: string;
}

// v1 held ssh keys only: one line, an MD5 fingerprint; both still fit v2.
registerUpcaster('KeypairCreated', 1, (v1) => v1);

@DomainEvent({ type: 'KeypairDeleted', version: 1, category: 'keypair' })
export class KeypairDeleted {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeyName()
  readonly name!: string;
}

export const KEYPAIR_EVENTS = eventCatalog('keypair', { KeypairCreated, KeypairDeleted });
