/**
 * Refusing a WebSocket upgrade before it completes: a plain HTTP response written on the raw
 * socket (the handshake never happened, so no WebSocket close code exists yet), with the status and
 * a short reason the browser's developer tools show, then the socket closed.
 * Must never echo anything from the request (its URL holds the token) into the response.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export type RefusalStatus = 400 | 401 | 403 | 404 | 502 | 503 | 504;

/** The whole response, head and body, for a refused upgrade. */
export function refusalResponse(status: RefusalStatus, reason: string): string {
  const body = `${reason}\n`;
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    '',
    body,
  ].join('\r\n');
}

/** Writes the refusal and closes the socket once it is sent (at once if it is gone already). */
export function refuse(socket: Duplex, status: RefusalStatus, reason: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(refusalResponse(status, reason));
}
