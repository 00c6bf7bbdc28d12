/**
 * What a browser does to the console proxy, for tests and the benchmark: open the console
 * WebSocket with a token and an Origin, and read either the VNC server's first bytes or the HTTP
 * refusal; plus a stand-in VNC server (speaks `RFB 003.008\n`, then echoes) to tunnel to.
 */
import net from 'node:net';

import { WebSocket } from 'ws';

export const RFB_BANNER = 'RFB 003.008\n';

export type ConsoleAttempt =
  | { readonly kind: 'open'; readonly ws: WebSocket; readonly banner: string }
  | { readonly kind: 'refused'; readonly status: number; readonly reason: string };

export interface OpenOptions {
  /** The Origin header; the proxy's own origin by default, none with null. */
  readonly origin?: string | null;
  /** The request path (default `/`). */
  readonly path?: string;
}

/** Opens `<proxy>/?token=<token>` (no token parameter when null) as noVNC would. */
export function openConsole(
  proxyUrl: string,
  token: string | null,
  options: OpenOptions = {},
): Promise<ConsoleAttempt> {
  const url = new URL(options.path ?? '/', proxyUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token !== null) url.searchParams.set('token', token);
  const origin = options.origin === undefined ? new URL(proxyUrl).origin : options.origin;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    ...(origin === null ? {} : { origin }),
  });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({
          kind: 'refused',
          status: response.statusCode ?? 0,
          reason: Buffer.concat(chunks).toString().trim(),
        });
      });
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.once('message', (data: Buffer) => {
        ws.off('error', reject);
        resolve({ kind: 'open', ws, banner: data.toString('latin1') });
      });
    });
  });
}

/** Resolves with the close code and reason the proxy sent. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** Sends `payload` in messages of `chunk` bytes and resolves with what came back, once it is all back. */
export function echoThrough(ws: WebSocket, payload: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let length = 0;
    const onMessage = (data: Buffer): void => {
      received.push(data);
      length += data.length;
      if (length >= payload.length) {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve(Buffer.concat(received));
      }
    };
    const onClose = (code: number): void => {
      ws.off('message', onMessage);
      reject(new Error(`closed (${code}) after ${length} of ${payload.length} bytes`));
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    for (let offset = 0; offset < payload.length; offset += chunk)
      ws.send(payload.subarray(offset, offset + chunk), { binary: true });
  });
}

export interface FakeVnc {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that greets like a VNC server and then echoes everything. */
export async function startFakeVnc(): Promise<FakeVnc> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.write(RFB_BANNER);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
