/**
 * Remote consoles end to end, through the public interfaces only: the real `openstack` CLI asks the
 * API for a noVNC URL (the API asks the compute agent over NATS, which authorises a token in the
 * store), headless Chromium (Playwright) opens that URL on the console proxy, and noVNC shows the
 * guest's screen, tunnelled over SSH from a rig host. Then every way a token can be wrong is tried
 * against the same proxy: expired, revoked by a stop or a reboot, tampered with, reused after a delete, from a
 * foreign Origin, or asked for by another project; each is refused, and the proxy keeps serving a
 * live console throughout. `openstack console log show` prints what the guest wrote to its serial
 * port. The screenshot is kept in test-artifacts/. Needs root (the rig) and Debian's chromium.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { chromium, type BrowserContext } from 'playwright-core';

import { ConsoleAuthorized, build, streamFor } from '#libs/contracts';
import {
  consoleReducer,
  decideAssignRole,
  decideCreateUser,
  decideEnsureProject,
  projectReducer,
  userReducer,
} from '#libs/domain';
import type { EventContext } from '#libs/event-store';

import { DEFAULT_DOMAIN, projectIdFor, userIdFor } from '../../apps/api/src/identity/identity-ids.js';
import { hashPassword } from '../../apps/api/src/identity/passwords.js';
import { RFB_BANNER, closeOf, openConsole } from '../../apps/console-proxy/test/console-socket.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import { litPixels } from '../support/novnc.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

const run = promisify(execFile);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

let system: NimbusSystem;
let os: OpenStackHttp;
let cliHome: string;
let imageId: string;

/** The real CLI, configured only as a user would configure it for any OpenStack cloud. */
async function openstack(...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/openstack', args, {
    timeout: 60_000,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: cliHome,
      OS_AUTH_URL: `${system.apiUrl!}/v3`,
      OS_IDENTITY_API_VERSION: '3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: ADMIN_PASSWORD,
      OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
    },
  });
  return stdout;
}

async function boot(name: string): Promise<string> {
  const created = await os.compute<{ server: { id: string } }>('POST', '/servers', {
    server: { name, imageRef: imageId, flavorRef: '0', networks: 'none' },
  });
  expect(created.status).toBe(202);
  return created.body.server.id;
}

function waitFor(id: string, status: string): Promise<true> {
  return eventually(
    `server ${id} ${status}`,
    async () => {
      const { body } = await os.compute<{ server: { status: string; fault?: { message: string } } }>(
        'GET',
        `/servers/${id}`,
      );
      if (body.server.status === 'ERROR')
        throw new Error(`server ${id} failed: ${body.server.fault?.message}`);
      return body.server.status === status ? true : undefined;
    },
    120_000,
  );
}

/** A console URL from the API (microversion 2.6's remote-consoles), and the token inside it. */
async function consoleToken(serverId: string, as: OpenStackHttp = os): Promise<string> {
  const reply = await as.compute<{ remote_console: { url: string } }>(
    'POST',
    `/servers/${serverId}/remote-consoles`,
    { remote_console: { protocol: 'vnc', type: 'novnc' } },
  );
  expect(reply.status).toBe(200);
  return tokenOf(reply.body.remote_console.url);
}

function tokenOf(accessUrl: string): string {
  const path = new URL(accessUrl).searchParams.get('path') ?? '';
  return new URLSearchParams(path.replace(/^\?/, '')).get('token') ?? '';
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Opens a console and expects the VNC server's greeting through the proxy. */
async function openLive(token: string) {
  const attempt = await openConsole(system.consoleProxyUrl!, token);
  if (attempt.kind !== 'open') throw new Error(`console refused: ${attempt.status} ${attempt.reason}`);
  expect(attempt.banner).toBe(RFB_BANNER);
  return attempt.ws;
}

/**
 * Boots a server, opens its console, does `act` to the server, and expects the open console closed
 * and its token refused from then on, both as revoked. Returns the server's id.
 */
async function consoleEndedBy(name: string, act: (id: string) => Promise<void>): Promise<string> {
  const id = await boot(name);
  await waitFor(id, 'ACTIVE');
  const token = await consoleToken(id);
  const closed = closeOf(await openLive(token));
  await act(id);
  expect(await closed).toEqual({ code: 1008, reason: 'token revoked' });
  expect(await openConsole(system.consoleProxyUrl!, token)).toEqual({
    kind: 'refused',
    status: 401,
    reason: 'token revoked',
  });
  return id;
}

beforeAll(async () => {
  system = await startSystem({ rigHosts: 1, api: true, consoleProxy: true });
  cliHome = mkdtempSync(join(tmpdir(), 'nimbus-console-cli-'));
  // 2.37: `networks: none` on boot; remote-consoles needs 2.6 or later.
  os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  imageId = images.body.images[0]!.id;
}, 240_000);

afterAll(async () => {
  await system.stop();
  rmSync(cliHome, { recursive: true, force: true });
}, 120_000);

let live: string;

describe('a server console in a browser', () => {
  let browser: BrowserContext | undefined;
  let profile: string;

  beforeAll(async () => {
    live = await boot('console-live');
    await waitFor(live, 'ACTIVE');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('prints the line the boot image writes to the serial port with `openstack console log show`', async () => {
    const log = await eventually(
      'the boot banner in the console log',
      async () => {
        const output = await openstack('console', 'log', 'show', live);
        return output.includes('Nimbus guest booted') ? output : undefined;
      },
      60_000,
    );
    expect(log).toContain('Nimbus guest booted');
  }, 90_000);

  it('shows the guest screen in noVNC at the URL `openstack console url show` gives', async () => {
    const shown = JSON.parse(
      await openstack(
        '--os-compute-api-version',
        '2.6',
        'console',
        'url',
        'show',
        '--novnc',
        live,
        '-f',
        'json',
      ),
    ) as { type: string; url: string };
    expect(shown.type).toBe('novnc');
    expect(shown.url.startsWith(`${system.consoleProxyUrl!}/vnc_lite.html?path=%3Ftoken%3D`)).toBe(true);

    profile = mkdtempSync(join(tmpdir(), 'nimbus-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1024, height: 600 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('response', (response) => {
      // The path only: the page's own query holds the token.
      if (response.status() >= 400) problems.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    await page.goto(shown.url);

    const status = page.locator('#status');
    await status.filter({ hasText: /^Connected \(unencrypted\) to: / }).waitFor({ timeout: 30_000 });
    expect(await status.textContent()).toMatch(/^Connected \(unencrypted\) to: \S/);

    // The guest's text screen: most pixels are the background, the banner's are not.
    const lit = await eventually(
      'the banner drawn on the noVNC canvas',
      async () => {
        const count = await litPixels(page);
        return count > 200 ? count : undefined;
      },
      30_000,
    );
    expect(lit).toBeGreaterThan(200);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-browser.png') });
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('console tokens', () => {
  it('refuses a tampered token (401) and keeps serving the real one', async () => {
    const token = await consoleToken(live);
    const flipped = `${token.slice(0, 5)}${token[5] === 'x' ? 'y' : 'x'}${token.slice(6)}`;
    expect(await openConsole(system.consoleProxyUrl!, flipped)).toEqual({
      kind: 'refused',
      status: 401,
      reason: 'token unknown',
    });
    (await openLive(token)).close();
  }, 60_000);

  it('refuses a page from a foreign Origin, or none (403)', async () => {
    const token = await consoleToken(live);
    for (const origin of ['http://evil.example', 'http://localhost:1', null]) {
      expect(await openConsole(system.consoleProxyUrl!, token, { origin })).toEqual({
        kind: 'refused',
        status: 403,
        reason: 'origin not allowed',
      });
    }
  }, 60_000);

  it('closes an open console when its token expires, and refuses the token after (401)', async () => {
    // The agent's TTL is at least 10 s; the same record with a 2 s lifetime shows the expiry sooner.
    const real = await system.store.fold(
      streamFor('console', sha256(await consoleToken(live))),
      consoleReducer,
    );
    const token = randomBytes(32).toString('base64url');
    const context: EventContext = {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: 'compute', projectId: null, kind: 'service' },
    };
    await system.store.append(
      streamFor('console', sha256(token)),
      [
        build(ConsoleAuthorized, {
          tokenHash: sha256(token),
          instanceId: live,
          projectId: real.state.projectId,
          host: real.state.host,
          port: real.state.port,
          consoleType: 'novnc',
          expiresAt: new Date(Date.now() + 2_000).toISOString(),
        }),
      ],
      'no_stream',
      context,
    );
    const ws = await openLive(token);
    expect(await closeOf(ws)).toEqual({ code: 1008, reason: 'token expired' });
    expect(await openConsole(system.consoleProxyUrl!, token)).toEqual({
      kind: 'refused',
      status: 401,
      reason: 'token expired',
    });
  }, 60_000);

  it('closes an open console when the server is stopped, and refuses its token after (401)', async () => {
    const stopped = await consoleEndedBy('console-stopped', async (id) => {
      expect((await os.compute('POST', `/servers/${id}/action`, { 'os-stop': null })).status).toBe(202);
    });
    await waitFor(stopped, 'SHUTOFF');
    const again = await os.compute('POST', `/servers/${stopped}/remote-consoles`, {
      remote_console: { protocol: 'vnc', type: 'novnc' },
    });
    expect(again.status).toBe(409);
  }, 180_000);

  it('closes an open console when the server is rebooted, and refuses its token after (401)', async () => {
    const rebooted = await consoleEndedBy('console-rebooted', async (id) => {
      const reboot = await os.compute('POST', `/servers/${id}/action`, { reboot: { type: 'HARD' } });
      expect(reboot.status).toBe(202);
    });
    // A console asked for after the reboot reaches the new VNC server (openLive checks its greeting).
    await waitFor(rebooted, 'ACTIVE');
    (await openLive(await consoleToken(rebooted))).close();
  }, 180_000);

  it('refuses a token reused after its server is deleted (401), closing the open console', async () => {
    await consoleEndedBy('console-deleted', async (id) => {
      expect((await os.compute('DELETE', `/servers/${id}`)).status).toBe(204);
    });
  }, 180_000);

  it("gives another project's member no console of this server (404)", async () => {
    const password = `pw-${randomUUID()}`;
    const context: EventContext = {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: 'nimbus-test', projectId: null, kind: 'service' },
    };
    // What the API's identity service appends for a new project and member (it has no REST for it).
    const projectId = projectIdFor(DEFAULT_DOMAIN.id, 'console-strangers');
    const userId = userIdFor(DEFAULT_DOMAIN.id, 'console-stranger');
    const passwordHash = await hashPassword(password);
    await system.store.execute(
      streamFor('project', projectId),
      projectReducer,
      (state) =>
        decideEnsureProject(state, {
          projectId,
          name: 'console-strangers',
          domainId: DEFAULT_DOMAIN.id,
          description: null,
        }),
      context,
    );
    await system.store.execute(
      streamFor('user', userId),
      userReducer,
      (state) =>
        decideCreateUser(state, {
          userId,
          name: 'console-stranger',
          domainId: DEFAULT_DOMAIN.id,
          passwordHash,
          defaultProjectId: projectId,
        }),
      context,
    );
    await system.store.execute(
      streamFor('user', userId),
      userReducer,
      (state) => decideAssignRole(state, userId, projectId, 'member'),
      context,
    );
    const stranger = await eventually(
      'a token for the new console-stranger user',
      () =>
        OpenStackHttp.login(
          system.apiUrl!,
          { user: 'console-stranger', password, project: 'console-strangers' },
          '2.6',
        ).catch(() => undefined),
      30_000,
    );
    const asked = await stranger.compute('POST', `/servers/${live}/remote-consoles`, {
      remote_console: { protocol: 'vnc', type: 'novnc' },
    });
    expect(asked.status).toBe(404);
    expect(asked.body).toHaveProperty('itemNotFound');
    const legacy = await OpenStackHttp.login(
      system.apiUrl!,
      { user: 'console-stranger', password, project: 'console-strangers' },
      '2.1',
    );
    expect(
      (await legacy.compute('POST', `/servers/${live}/action`, { 'os-getVNCConsole': { type: 'novnc' } }))
        .status,
    ).toBe(404);
  }, 60_000);

  it('still serves a live console after all of that, both ways', async () => {
    const ws = await openLive(await consoleToken(live));
    // The client's version answers the server's; QEMU then offers its security types.
    const reply = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    ws.send(Buffer.from(RFB_BANNER), { binary: true });
    const types = await reply;
    expect(types[0]).toBeGreaterThan(0);
    ws.close();
  }, 60_000);
});
