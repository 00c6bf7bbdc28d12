import { assetHeaders, contentSecurityPolicy, securityHeaders } from './headers.js';

const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const directives = new Map(
  CONTENT_SECURITY_POLICY.split('; ').map((directive) => {
    const [name, ...values] = directive.split(' ');
    return [name!, values];
  }),
);

describe('response headers', () => {
  it('allow only this origin to run scripts, load styles and open the WebSocket: no inline code, no eval', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('never send the page URL (which holds the token) as a referrer, and forbid sniffing and framing', () => {
    expect(securityHeaders({ https: false })).toMatchObject({
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    });
  });

  it('let only the origins named by the operator frame the page, as the dashboard console tab does', () => {
    const framed = securityHeaders({ https: false, frameAncestors: ['http://127.0.0.1:8080'] });
    expect(String(framed['Content-Security-Policy']).split('; ').at(-1)).toBe(
      'frame-ancestors http://127.0.0.1:8080',
    );
    expect(framed).not.toHaveProperty('X-Frame-Options');
  });

  it('ask for HTTPS only when users reach the proxy over HTTPS', () => {
    expect(securityHeaders({ https: false })).not.toHaveProperty('Strict-Transport-Security');
    expect(securityHeaders({ https: true })).toHaveProperty('Strict-Transport-Security');
  });

  it('never let the page be stored, and let modules be revalidated by ETag', () => {
    const body = { length: 10, etag: '"abc"' };
    expect(assetHeaders('page', body, { https: false })).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': 10,
      'Cache-Control': 'no-store',
    });
    expect(assetHeaders('page', body, { https: false })).not.toHaveProperty('ETag');
    expect(assetHeaders('script', body, { https: false })).toMatchObject({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
      ETag: '"abc"',
    });
  });
});
