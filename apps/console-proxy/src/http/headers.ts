/**
 * The response headers of everything the proxy serves over plain HTTP: a Content-Security-Policy
 * that allows only this origin's own scripts, styles and WebSocket (no inline code, no eval, no
 * framing), no referrer (the page's URL carries the token), no MIME sniffing, and caching that never
 * keeps the page (its URL is a credential) while letting the noVNC modules be revalidated by ETag.
 * Framing is refused unless the operator names the origins that may frame it (the dashboard's console tab).
 * Must never allow inline script, `eval`, or another origin for scripts or connections.
 */
import type { OutgoingHttpHeaders } from 'node:http';

export type AssetKind = 'page' | 'script' | 'style' | 'json';

export const CONTENT_TYPES: Readonly<Record<AssetKind, string>> = {
  page: 'text/html; charset=utf-8',
  script: 'text/javascript; charset=utf-8',
  style: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

const POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // noVNC draws the remote cursor as a data: URL.
  "img-src 'self' data: blob:",
  // The console WebSocket, to this very origin (CSP 3: 'self' covers ws: and wss: there).
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
];

/** The Content-Security-Policy, with the origins that may frame the page (none: no framing). */
export function contentSecurityPolicy(frameAncestors: readonly string[] = []): string {
  const ancestors = frameAncestors.length === 0 ? "'none'" : frameAncestors.join(' ');
  return [...POLICY, `frame-ancestors ${ancestors}`].join('; ');
}

export interface HeaderOptions {
  /** Users reach the proxy over HTTPS (its base URL), so browsers should never try plain HTTP. */
  readonly https: boolean;
  /** Origins whose pages may frame the console (the dashboard); none when absent. */
  readonly frameAncestors?: readonly string[];
}

/** Headers every response carries, whatever it is. */
export function securityHeaders(options: HeaderOptions): OutgoingHttpHeaders {
  const framed = (options.frameAncestors ?? []).length > 0;
  return {
    'Content-Security-Policy': contentSecurityPolicy(options.frameAncestors),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    // X-Frame-Options cannot name origins; frame-ancestors governs alone when some may frame.
    ...(framed ? {} : { 'X-Frame-Options': 'DENY' }),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...(options.https ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
  };
}

/** Headers of a served file: its type, length and caching on top of the security headers. */
export function assetHeaders(
  kind: AssetKind,
  body: { readonly length: number; readonly etag: string },
  options: HeaderOptions,
): OutgoingHttpHeaders {
  return {
    ...securityHeaders(options),
    'Content-Type': CONTENT_TYPES[kind],
    'Content-Length': body.length,
    ...(kind === 'page' ? { 'Cache-Control': 'no-store' } : { 'Cache-Control': 'no-cache', ETag: body.etag }),
  };
}
