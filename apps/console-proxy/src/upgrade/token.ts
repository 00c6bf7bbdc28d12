/**
 * The console token as the browser presents it: the `token` query parameter of the WebSocket
 * upgrade (`/?token=...`, what the access URL's `path=?token=...` makes noVNC request), checked for
 * shape before anything else, and the SHA-256 the store knows it by.
 * Must never log, return in an error, or keep the token: callers get its hash, and logs at most a
 * prefix of that.
 */
import { createHash } from 'node:crypto';

/** base64url; the compute agent issues 43 characters (256 bits), anything from 128 bits is accepted. */
const TOKEN = /^[A-Za-z0-9_-]{22,128}$/;

/** The only path the WebSocket endpoint answers on. */
export const CONSOLE_SOCKET_PATH = '/';

export type UpgradeTarget =
  | { readonly ok: true; readonly tokenHash: string }
  | { readonly ok: false; readonly reason: 'not-found' | 'token missing' | 'token malformed' };

/** Reads the request target of an upgrade (`request.url`: a path and a query). */
export function parseUpgradeTarget(target: string | undefined): UpgradeTarget {
  // The request target as sent: a path and a query, read literally (a URL parser would take `//x/`
  // for a host).
  const text = target ?? '';
  const query = text.indexOf('?');
  const path = query < 0 ? text : text.slice(0, query);
  if (path !== CONSOLE_SOCKET_PATH) return { ok: false, reason: 'not-found' };
  const tokens = new URLSearchParams(query < 0 ? '' : text.slice(query + 1)).getAll('token');
  if (tokens.length === 0 || tokens[0] === '') return { ok: false, reason: 'token missing' };
  const [token] = tokens;
  if (tokens.length > 1 || token === undefined || !TOKEN.test(token))
    return { ok: false, reason: 'token malformed' };
  return { ok: true, tokenHash: tokenHashOf(token) };
}

/** Hex SHA-256 of the token as the browser sent it: the id of its `console-<hash>` stream. */
export function tokenHashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What a log line may say about a token: the first 8 hex digits of its hash. */
export function hashPrefix(tokenHash: string): string {
  return tokenHash.slice(0, 8);
}
