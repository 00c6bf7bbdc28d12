/**
 * `GET /healthz` on its own loopback listener, never on the browser-facing one: 200 while the proxy
 * can admit consoles (its revocation feed is live), 503 otherwise, with the counts and the state
 * of each host's SSH session.
 * Must never say anything about a token.
 */
import { createServer, type Server } from 'node:http';

export type HealthReport = () => { readonly ready: boolean } & Readonly<Record<string, unknown>>;

export function healthServer(report: HealthReport): Server {
  return createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/healthz') {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('not found\n');
      return;
    }
    const status = report();
    response.writeHead(status.ready ? 200 : 503, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    response.end(JSON.stringify({ status: status.ready ? 'ok' : 'unavailable', ...status }));
  });
}
