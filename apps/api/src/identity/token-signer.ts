/**
 * Tokens as signed claims: `nmb1.<claims>.<mac>`, the claims (user, project, audit id, issue and expiry
 * time, methods, the application credential if any) in base64url JSON and an HMAC-SHA256 over them. Any API replica with the same key
 * validates a token without a lookup; revocation is a separate fact (TokenRevoked) checked by the caller.
 * Must never accept a token whose MAC does not verify (compared in constant time) or that has expired, and
 * never log a token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** user id */
  readonly u: string;
  /** project id the token is scoped to; null for an unscoped token */
  readonly p: string | null;
  /** audit id: what revocations and logs name the token by */
  readonly a: string;
  /** issued at, seconds since the epoch */
  readonly i: number;
  /** expires at, seconds since the epoch */
  readonly e: number;
  /** authentication methods */
  readonly m: readonly string[];
  /** the application credential the token was obtained with, if any */
  readonly c?: string;
}

const PREFIX = 'nmb1';

export class TokenSigner {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error('the token signing key must be at least 32 bytes');
  }

  static newAuditId(): string {
    return randomBytes(16).toString('base64url');
  }

  sign(claims: TokenClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${PREFIX}.${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a well-formed, correctly signed, unexpired token; null otherwise. */
  verify(token: string, now: Date): TokenClaims | null {
    if (token.length > 2048) return null;
    const [prefix, body, mac, ...rest] = token.split('.');
    if (prefix !== PREFIX || !body || !mac || rest.length > 0) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!isClaims(claims)) return null;
    return claims.e * 1000 > now.getTime() ? claims : null;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(`${PREFIX}.${body}`).digest();
  }
}

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const claims = value as Record<string, unknown>;
  return (
    typeof claims['u'] === 'string' &&
    (typeof claims['p'] === 'string' || claims['p'] === null) &&
    typeof claims['a'] === 'string' &&
    typeof claims['i'] === 'number' &&
    typeof claims['e'] === 'number' &&
    Array.isArray(claims['m']) &&
    claims['m'].every((method) => typeof method === 'string') &&
    (claims['c'] === undefined || typeof claims['c'] === 'string')
  );
}
