/**
 * The console proxy put together: Nova's nova-novncproxy for Nimbus. A browser-facing HTTP listener
 * serves the noVNC page and modules; its WebSocket upgrades are admitted against the store (point
 * read of `console-<sha256(token)>`), tunnelled over SSH to the VNC server on the instance's host,
 * and closed when the token is revoked (a `$all` feed of `console-` events) or expires. A separate
 * listener (loopback by default) answers `/healthz`.
 *
 * Why plain node:http and `ws` rather than NestJS on fastify like the other services: the proxy has
 * three fixed routes and one WebSocket endpoint whose every header it must control, and no module
 * graph worth injecting; the WebSocket path would bypass the framework anyway. Measured on the
 * reference machine (2 cores): a minimal Nest+fastify app took 550-810 ms from process start to
 * listening and 92-98 MB RSS, the same routes on node:http 6-9 ms and 44 MB, with the same per-request
 * latency (0.42-0.45 ms over loopback). A console proxy restarts often behind a balancer; it starts
 * in milliseconds.
 * Must never log a token or a request URL, never admit a console it has not just seen authorised in
 * the store, and never accept consoles while it cannot see revocations.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { EventStore } from '#libs/event-store';
import { type SshInventory, sshEndpointsFromInventory } from '#libs/host-ssh';

import { type ConsoleAuthority, StoreConsoleAuthority } from './admission/console-authority.js';
import { ConsoleRegistry } from './admission/console-registry.js';
import { RevocationFeed } from './admission/revocation-feed.js';
import type { ConsoleProxyConfig } from './config.js';
import { loadAssets } from './http/assets.js';
import { healthServer } from './http/health.js';
import { staticHandler } from './http/static-handler.js';
import type { Log } from './log.js';
import { CLOSE } from './tunnel/bridge.js';
import { SshVncTunnels, type VncTunnels } from './tunnel/vnc-tunnels.js';
import { ConsoleUpgrades } from './upgrade/console-upgrades.js';
import { OriginPolicy, originOf } from './upgrade/origin.js';

/** What admits and carries consoles; main wires the real ones, the benchmark a direct TCP target. */
export interface ProxyParts {
  readonly authority: ConsoleAuthority;
  readonly tunnels: VncTunnels;
  readonly registry: ConsoleRegistry;
  /** False while revocations cannot be seen. */
  readonly accepting: () => boolean;
  /** Extra fields for /healthz. */
  readonly health?: () => Readonly<Record<string, unknown>>;
  /** Stops what the parts run (feeds, sessions, clients), after the listeners have closed. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly baseUrl?: string;
  /** Empty: the base URL's origin only. */
  readonly allowedOrigins: readonly string[];
  /** Origins whose pages may frame the console page; empty: none. */
  readonly frameAncestors?: readonly string[];
  /** Loopback unless probes come over the network. */
  readonly healthHost?: string;
  readonly healthPort: number;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  readonly log: Log;
}

export interface RunningProxy {
  readonly port: number;
  readonly healthPort: number;
  readonly baseUrl: string;
  readonly allowedOrigins: readonly string[];
  close(): Promise<void>;
}

const listen = (server: Server, port: number, host: string): Promise<number> =>
  new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });

/** An address as it appears in a URL's authority. */
const urlHost = (host: string): string => {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
};

/** The listeners, given their parts. */
export async function listenConsoleProxy(parts: ProxyParts, options: ListenOptions): Promise<RunningProxy> {
  const server = createServer();
  const port = await listen(server, options.port, options.host);
  const baseUrl = (options.baseUrl ?? `http://${urlHost(options.host)}:${port}`).replace(/\/+$/, '');
  const origins = new OriginPolicy(options.allowedOrigins.length > 0 ? options.allowedOrigins : [baseUrl]);
  let closing = false;
  const upgrades = new ConsoleUpgrades({
    origins,
    authority: parts.authority,
    tunnels: parts.tunnels,
    registry: parts.registry,
    log: options.log,
    connectTimeoutMs: options.connectTimeoutMs,
    maxConnections: options.maxConnections,
    accepting: () => !closing && parts.accepting(),
  });
  server.on(
    'request',
    staticHandler(loadAssets(), {
      https: originOf(baseUrl).startsWith('https:'),
      frameAncestors: (options.frameAncestors ?? []).map(originOf),
    }),
  );
  server.on('upgrade', upgrades.handle);

  const report = () => ({
    ready: !closing && parts.accepting(),
    consoles: { open: upgrades.open, tracked: parts.registry.size },
    hosts: parts.tunnels.stats(),
    ...parts.health?.(),
  });
  const health = healthServer(report);
  let healthPort: number;
  try {
    healthPort = await listen(health, options.healthPort, options.healthHost ?? '127.0.0.1');
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  return {
    port,
    healthPort,
    baseUrl,
    allowedOrigins: origins.list(),
    async close() {
      if (closing) return;
      closing = true;
      upgrades.closeAll(CLOSE.goingAway, 'console proxy stopping');
      await Promise.all([closeServer(server), closeServer(health)]);
      await parts.close();
    },
  };
}

/** The SSH part of the inventory file the compute agents read. */
export function readInventory(file: string): SshInventory {
  return JSON.parse(readFileSync(resolve(file), 'utf8')) as SshInventory;
}

/** The proxy as main runs it: the store, one SSH session per inventory host, the revocation feed. */
export async function startConsoleProxy(config: ConsoleProxyConfig, log: Log): Promise<RunningProxy> {
  const endpoints = sshEndpointsFromInventory(readInventory(config.inventory));
  const client = EventStoreDBClient.connectionString(config.eventStoreUrl);
  const registry = new ConsoleRegistry();
  const feed = new RevocationFeed(client, registry, log);
  const tunnels = new SshVncTunnels(endpoints, {
    log: (line) => {
      log('ssh', { line });
    },
  });
  const parts: ProxyParts = {
    authority: new StoreConsoleAuthority(new EventStore(client)),
    tunnels,
    registry,
    accepting: () => feed.state() === 'live',
    health: () => ({ revocationFeed: feed.state() }),
    async close() {
      await feed.stop();
      await tunnels.close();
      await client.dispose();
    },
  };
  try {
    // Consoles are admitted only once revocations can be seen.
    await feed.start();
    return await listenConsoleProxy(parts, {
      host: config.host,
      port: config.port,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      allowedOrigins: config.allowedOrigins,
      frameAncestors: config.frameAncestors,
      healthHost: config.healthHost,
      healthPort: config.healthPort,
      maxConnections: config.maxConnections,
      connectTimeoutMs: config.connectTimeoutMs,
      log,
    });
  } catch (error) {
    await parts.close().catch(() => undefined);
    throw error;
  }
}
