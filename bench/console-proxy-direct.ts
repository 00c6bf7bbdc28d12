/**
 * The console proxy's own listener, upgrade path and bridge, with a direct TCP target instead of the
 * store and SSH: `node dist/bench/console-proxy-direct.js <target port>`. For `npm run bench:console`
 * only, so the proxy can be compared with websockify on the same path shape (WebSocket in, plain TCP
 * to 127.0.0.1:<target port> out). Every well-formed token is admitted: this entry point exists in
 * bench/ precisely so that no production configuration can turn the token check off.
 * Prints the same `{"msg":"listening","port":N}` line as the real proxy.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

import type { ConsoleAuthority } from '../apps/console-proxy/src/admission/console-authority.js';
import { ConsoleRegistry } from '../apps/console-proxy/src/admission/console-registry.js';
import { listenConsoleProxy, type ProxyParts } from '../apps/console-proxy/src/console-proxy.js';
import type { VncTunnels } from '../apps/console-proxy/src/tunnel/vnc-tunnels.js';

const targetPort = Number(process.argv[2]);
if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65_535) {
  process.stderr.write('usage: console-proxy-direct <target port>\n');
  process.exit(2);
}

const admitAll: ConsoleAuthority = {
  admit: () =>
    Promise.resolve({
      ok: true,
      instanceId: '00000000-0000-4000-8000-000000000000',
      host: 'bench',
      port: targetPort,
      expiresAt: new Date(Date.now() + 3_600_000),
    }),
};

/** A plain TCP connection where production opens an SSH channel. */
const direct: VncTunnels = {
  open: (_host, port) =>
    new Promise<Duplex>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    }),
  stats: () => ({}),
  close: () => Promise.resolve(),
};

const parts: ProxyParts = {
  authority: admitAll,
  tunnels: direct,
  registry: new ConsoleRegistry(),
  accepting: () => true,
  close: () => Promise.resolve(),
};

const proxy = await listenConsoleProxy(parts, {
  host: '127.0.0.1',
  port: 0,
  allowedOrigins: [],
  healthPort: 0,
  maxConnections: 100,
  connectTimeoutMs: 10_000,
  log: () => undefined,
});
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: proxy.port, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void proxy.close().then(() => process.exit(0));
});
