/**
 * The console proxy against real parts: the embedded event store (a child process), a one-host rig
 * (real sshd, pinned host key, the rig's inventory), and a stand-in VNC server on the loopback that
 * speaks `RFB 003.008` and echoes, reached through a real SSH direct-tcpip forward. Tokens are
 * authorised and revoked by appending the events the compute agent appends. Needs root (the rig).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { loadConfig } from '#libs/config';
import { ConsoleAuthorized, ConsoleRevoked, build, streamFor } from '#libs/contracts';
import { EventStore, type EventContext } from '#libs/event-store';

import { createRig, destroyRig, type RigInventory } from '../../../deploy/rig/rig.js';
import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { ConsoleProxyConfig } from '../src/config.js';
import { type RunningProxy, startConsoleProxy } from '../src/console-proxy.js';
import { CLOSE } from '../src/tunnel/bridge.js';
import {
  type FakeVnc,
  RFB_BANNER,
  closeOf,
  echoThrough,
  openConsole,
  startFakeVnc,
} from './console-socket.js';

let stateDir: string;
let rig: RigInventory;
let eventStore: EventStoreProcess;
let client: EventStoreDBClient;
let store: EventStore;
let vnc: FakeVnc;
let proxy: RunningProxy;
let proxyUrl: string;
const logLines: string[] = [];
const issued: string[] = [];

const compute: EventContext = {
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'compute', projectId: null, kind: 'service' },
};

/** What the compute agent does for a console: a fresh token, only its hash stored. */
async function authorize(
  options: { expiresInMs?: number; host?: string; port?: number } = {},
): Promise<{ token: string; tokenHash: string; instanceId: string }> {
  const token = randomBytes(32).toString('base64url');
  issued.push(token);
  const tokenHash = createHash('sha256').update(token).digest('hex');
  const instanceId = randomUUID();
  await store.append(
    streamFor('console', tokenHash),
    [
      build(ConsoleAuthorized, {
        tokenHash,
        instanceId,
        projectId: 'p-console',
        host: options.host ?? rig.hosts[0]!.name,
        port: options.port ?? vnc.port,
        consoleType: 'novnc',
        expiresAt: new Date(Date.now() + (options.expiresInMs ?? 600_000)).toISOString(),
      }),
    ],
    'no_stream',
    compute,
  );
  return { token, tokenHash, instanceId };
}

async function revoke(tokenHash: string, instanceId: string): Promise<void> {
  await store.append(
    streamFor('console', tokenHash),
    [build(ConsoleRevoked, { tokenHash, instanceId, reason: 'instance-stopped' })],
    0n,
    compute,
  );
}

async function opened(token: string) {
  const attempt = await openConsole(proxyUrl, token);
  if (attempt.kind !== 'open') throw new Error(`refused: ${attempt.status} ${attempt.reason}`);
  return attempt;
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'nimbus-console-proxy-it-'));
  rig = await createRig({ stateDir, hosts: 1, namePrefix: `cp${randomUUID().slice(0, 6)}` });
  eventStore = await startEventStoreProcess();
  client = EventStoreDBClient.connectionString(eventStore.connectionString);
  store = new EventStore(client);
  vnc = await startFakeVnc();
  proxy = await startConsoleProxy(
    loadConfig(ConsoleProxyConfig, {
      EVENTSTORE_URL: eventStore.connectionString,
      NIMBUS_CONSOLE_PORT: '0',
      NIMBUS_CONSOLE_INVENTORY: path.join(stateDir, 'inventory.json'),
      NIMBUS_CONSOLE_CONNECT_TIMEOUT_MS: '10000',
    }),
    (msg, fields) => logLines.push(JSON.stringify({ msg, ...fields })),
  );
  proxyUrl = proxy.baseUrl;
}, 90_000);

afterAll(async () => {
  // Each part may be missing when beforeAll failed half way.
  const parts = { proxy, vnc, client, eventStore } as Partial<{
    proxy: RunningProxy;
    vnc: FakeVnc;
    client: EventStoreDBClient;
    eventStore: EventStoreProcess;
  }>;
  await parts.proxy?.close();
  await parts.vnc?.stop();
  await parts.client?.dispose();
  await parts.eventStore?.stop();
  if (stateDir) {
    await destroyRig(stateDir, { removeUsers: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}, 60_000);

describe('the console proxy on a rig host', () => {
  it('serves the noVNC page and modules with a strict policy, and health only on its loopback port', async () => {
    const page = await fetch(`${proxyUrl}/vnc_lite.html?path=%3Ftoken%3Dx`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('app/console.js');

    const rfb = await fetch(`${proxyUrl}/core/rfb.js`);
    expect(rfb.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = rfb.headers.get('etag')!;
    expect((await fetch(`${proxyUrl}/core/rfb.js`, { headers: { 'If-None-Match': etag } })).status).toBe(304);

    expect((await fetch(`${proxyUrl}/core/../package.json`)).status).toBe(404);
    expect((await fetch(`${proxyUrl}/healthz`)).status).toBe(404);
    expect((await fetch(`${proxyUrl}/vnc_lite.html`, { method: 'POST' })).status).toBe(405);

    const health = await fetch(`http://127.0.0.1:${proxy.healthPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', revocationFeed: 'live' });
  });

  it('opens a console through an SSH forward to the VNC server and carries bytes both ways', async () => {
    const { token, tokenHash } = await authorize();
    const before = vnc.connections();
    const { ws, banner } = await opened(token);
    expect(banner).toBe(RFB_BANNER);
    expect(vnc.connections()).toBe(before + 1);
    const payload = randomBytes(4 * 1024 * 1024);
    expect((await echoThrough(ws, payload)).equals(payload)).toBe(true);
    const closed = closeOf(ws);
    ws.close();
    await closed;
    const logs = logLines.join('\n');
    expect(logs).toContain(tokenHash.slice(0, 8));
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(tokenHash);
  }, 30_000);

  it('keeps one SSH connection per host, however many consoles it carries', async () => {
    const consoles = await Promise.all([1, 2, 3].map(async () => opened((await authorize()).token)));
    const health = (await (await fetch(`http://127.0.0.1:${proxy.healthPort}/healthz`)).json()) as {
      hosts: Record<string, { connects: number }>;
      consoles: { open: number };
    };
    expect(health.hosts[rig.hosts[0]!.name]).toMatchObject({ connected: true, connects: 1 });
    expect(health.consoles.open).toBe(3);
    for (const { ws } of consoles) ws.close();
  }, 30_000);

  type Request = () => Promise<{ token: string | null; origin?: string | null; path?: string }>;
  const fresh = async (options: Parameters<typeof authorize>[0] = {}) => (await authorize(options)).token;

  it.each<[string, number, string, Request]>([
    ['no token', 401, 'token missing', () => Promise.resolve({ token: null })],
    ['a malformed token', 401, 'token malformed', () => Promise.resolve({ token: 'not-a-token!' })],
    [
      'a token never issued',
      401,
      'token unknown',
      () => Promise.resolve({ token: randomBytes(32).toString('base64url') }),
    ],
    [
      'a tampered token',
      401,
      'token unknown',
      async () => {
        const token = await fresh();
        return { token: `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}` };
      },
    ],
    ['an expired token', 401, 'token expired', async () => ({ token: await fresh({ expiresInMs: -1_000 }) })],
    [
      'a revoked token',
      401,
      'token revoked',
      async () => {
        const { token, tokenHash, instanceId } = await authorize();
        await revoke(tokenHash, instanceId);
        return { token };
      },
    ],
    [
      'a foreign Origin',
      403,
      'origin not allowed',
      async () => ({ token: await fresh(), origin: 'http://evil.test' }),
    ],
    ['no Origin', 403, 'origin not allowed', async () => ({ token: await fresh(), origin: null })],
    [
      'another path',
      404,
      'no console endpoint here',
      async () => ({ token: await fresh(), path: '/websockify' }),
    ],
    [
      'a host the proxy does not know',
      502,
      'console host unknown to this proxy',
      async () => ({ token: await fresh({ host: 'nowhere' }) }),
    ],
    [
      'a VNC port nothing listens on',
      502,
      'console not reachable on its host',
      async () => ({ token: await fresh({ port: 1 }) }),
    ],
  ])(
    'refuses %s with %i (%s)',
    async (_what, status, reason, request) => {
      const { token, origin, path: requestPath } = await request();
      const attempt = await openConsole(proxyUrl, token, {
        ...(origin === undefined ? {} : { origin }),
        ...(requestPath === undefined ? {} : { path: requestPath }),
      });
      expect(attempt).toEqual({ kind: 'refused', status, reason });
    },
    30_000,
  );

  it('closes a console when its token is revoked, and keeps serving another', async () => {
    const doomed = await authorize();
    const other = await authorize();
    const first = await opened(doomed.token);
    const second = await opened(other.token);
    const closed = closeOf(first.ws);
    await revoke(doomed.tokenHash, doomed.instanceId);
    expect(await closed).toEqual({ code: CLOSE.policyViolation, reason: 'token revoked' });
    expect(await openConsole(proxyUrl, doomed.token)).toEqual({
      kind: 'refused',
      status: 401,
      reason: 'token revoked',
    });
    const payload = randomBytes(100_000);
    expect((await echoThrough(second.ws, payload)).equals(payload)).toBe(true);
    second.ws.close();
  }, 30_000);

  it('closes a console when its token expires', async () => {
    const { token } = await authorize({ expiresInMs: 1_500 });
    const { ws } = await opened(token);
    const started = Date.now();
    expect(await closeOf(ws)).toEqual({ code: CLOSE.policyViolation, reason: 'token expired' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await openConsole(proxyUrl, token)).toEqual({
      kind: 'refused',
      status: 401,
      reason: 'token expired',
    });
  }, 30_000);

  it('never writes a token, or a whole token hash, into its log', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const logs = logLines.join('\n');
    for (const token of issued) {
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(createHash('sha256').update(token).digest('hex'));
    }
  });
});
