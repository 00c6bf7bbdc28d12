/**
 * Events of the `token-<audit id>` stream: token revocations. A token is a signed, self-contained claim;
 * what the store keeps is only the fact that one was revoked, under its audit id (as Keystone's revocation
 * events do), until it would have expired anyway.
 * Must never hold the token or anything it could be rebuilt from.
 */
import { TOKEN_AUDIT_ID } from '../categories.js';
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsKeystoneId, IsPattern, IsTimestamp } from '../validation.js';

@DomainEvent({ type: 'TokenRevoked', version: 1, category: 'token' })
export class TokenRevoked {
  @IsPattern(TOKEN_AUDIT_ID, 'a token audit id (22 characters of URL-safe base64)', 22)
  readonly auditId!: string;

  /** Whose token it was (not who revoked it: that is the envelope's actor). */
  @IsKeystoneId()
  readonly userId!: string;

  /** After this instant the token is refused anyway, so readers may forget the revocation. */
  @IsTimestamp()
  readonly expiresAt!: string;
}

export const TOKEN_EVENTS = eventCatalog('token', { TokenRevoked });
