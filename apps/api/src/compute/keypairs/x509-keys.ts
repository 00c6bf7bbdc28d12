/**
 * x509 key material for key pairs of type `x509` (Nova's certificates for Windows guests): generating
 * an RSA key with a self-signed certificate, reading an imported certificate, and Nova's fingerprint
 * of one (SHA-1 of the certificate's DER bytes, colon-separated hex).
 * Must never log or keep a private key: it is returned to the one caller and dropped.
 */
// The certificate library's dependency injection needs the metadata polyfill loaded first.
import 'reflect-metadata';

import { KeyObject, X509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';

import { X509CertificateGenerator } from '@peculiar/x509';

import type { GeneratedKeypair } from './ssh-keys.js';

/** How long a generated certificate is valid, as Nova's (ten years). */
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

function certificateFingerprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').match(/../g)?.join(':') ?? '';
}

/** What a distinguished name carries as it is, within the 64 characters a name attribute may have. */
const PLAIN_NAME = /^[A-Za-z0-9-]{1,64}$/;

/** An RSA key and a self-signed certificate for it whose subject names its user and project (ids). */
export async function generateX509(userId: string, projectId: string): Promise<GeneratedKeypair> {
  if (!PLAIN_NAME.test(userId) || !PLAIN_NAME.test(projectId))
    throw new Error('a certificate names its user and project by id');
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const now = Date.now();
  // Signed with Node's WebCrypto, the library's default provider (globalThis.crypto).
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `O=Nimbus, OU=${projectId}, CN=${userId}`,
    notBefore: new Date(now),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: RSA,
    keys,
  });
  const privateKey = KeyObject.from(keys.privateKey).export({ type: 'pkcs1', format: 'pem' });
  return {
    publicKey: certificate.toString('pem'),
    privateKey: String(privateKey),
    fingerprint: certificateFingerprint(Buffer.from(certificate.rawData)),
  };
}

/** An imported certificate (PEM) and its fingerprint, or null when it is not one. */
export function parseCertificate(pem: string): { publicKey: string; fingerprint: string } | null {
  try {
    const certificate = new X509Certificate(pem);
    return { publicKey: pem, fingerprint: certificateFingerprint(certificate.raw) };
  } catch {
    return null;
  }
}
