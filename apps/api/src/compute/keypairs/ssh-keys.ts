/**
 * SSH key material for key pairs: generating an ed25519 pair (the public key in OpenSSH's one-line form,
 * the private key in OpenSSH's own file format, which `ssh` reads), parsing an imported public key, and
 * Nova's fingerprint (MD5 of the key blob in colon-separated hex).
 * Must never log or keep a private key: it is returned to the one caller and dropped.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface GeneratedKeypair {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly fingerprint: string;
}

/** An SSH wire-format string: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function fingerprintOf(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)?.join(':') ?? '';
}

/** Generates an ed25519 pair; `comment` ends the public key line, as ssh-keygen writes it. */
export function generateEd25519(comment: string): GeneratedKeypair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  const privateJwk = privateKey.export({ format: 'jwk' });
  if (!publicJwk.x || !privateJwk.d) throw new Error('ed25519 key export lacks its components');
  const raw = Buffer.from(publicJwk.x, 'base64url');
  const seed = Buffer.from(privateJwk.d, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);

  // openssh-key-v1, unencrypted: the check integers let ssh detect a wrong passphrase (none here).
  const check = randomBytes(4);
  let privateSection = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(raw),
    sshString(Buffer.concat([seed, raw])),
    sshString(comment),
  ]);
  const padding = Buffer.from(
    Array.from({ length: (8 - (privateSection.length % 8)) % 8 }, (_, index) => index + 1),
  );
  privateSection = Buffer.concat([privateSection, padding]);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const file = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    count,
    sshString(blob),
    sshString(privateSection),
  ]);
  const lines = file.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    fingerprint: fingerprintOf(blob),
  };
}

const KEY_TYPES = new Set([
  'ssh-rsa',
  'ssh-ed25519',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** An imported OpenSSH public key line, checked and normalised; null when it is not one. */
export function parsePublicKey(
  line: string,
): { readonly publicKey: string; readonly fingerprint: string } | null {
  const parts = line.trim().split(/\s+/);
  const [type, encoded] = parts;
  if (!type || !encoded || !KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const blob = Buffer.from(encoded, 'base64');
  if (blob.length < 8) return null;
  const nameLength = blob.readUInt32BE(0);
  if (nameLength + 4 > blob.length || blob.subarray(4, 4 + nameLength).toString() !== type) return null;
  const normalised = parts.join(' ');
  if (!/^[\x20-\x7e]+$/.test(normalised) || normalised.length > 16_384) return null;
  return { publicKey: normalised, fingerprint: fingerprintOf(blob) };
}
