/**
 * The launch story in the OpenStack dashboard, as a user clicks it: `npm run up -- --dashboard` serves
 * Debian's Horizon (uWSGI) against Nimbus; a project and its member are made through the identity API,
 * the member makes a network with a subnet and imports a key pair through the APIs, and then everything
 * else happens in headless Chromium: log in, the overview's quota charts and usage, an empty instance
 * list, the Launch Instance wizard (details, image, flavor, network, security group, key pair), the row
 * going from Build to Active without a reload, the address on the detail page, the console tab's noVNC
 * drawing the guest's screen, Shut Off and Start from the row's menu, the action log, and the delete.
 * No Horizon error message may appear at any step, and neither Horizon nor Nimbus may answer a 5xx
 * (both log every one). A screenshot of each step is kept in test-artifacts/dashboard/. Needs root (the
 * rig, the packages) and Debian's chromium.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, type Frame, type Page, chromium } from 'playwright-core';

import { OpenStackHttp, type Reply } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import { litPixels } from '../support/novnc.js';
import { alive, envOf, nimbusCommand } from '../support/local-up.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const workDir = mkdtempSync(join(tmpdir(), 'nimbus-dashboard-'));
const stateDir = join(workDir, 'state');
const prefix = `d${randomUUID().slice(0, 6)}`;
const SERVER = 'hz-web-1';
const PASSWORD = `pw-${randomUUID()}`;

type Json = Record<string, unknown>;

let env: Record<string, string>;
let browser: Browser | undefined;
let page: Page;
let shot = 0;
let member: OpenStackHttp;

/** The body of a reply that succeeded; anything else stops the suite with what was answered. */
function ok<T>(reply: Reply<T>, what: string): T {
  if (reply.status >= 300) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Horizon shows its errors as danger alerts (Django messages and Angular toasts alike). */
async function noHorizonError(step: string): Promise<void> {
  // Templates keep hidden, empty alert elements around; only a shown message counts.
  const shown = await page.locator('.alert-danger:visible').allInnerTexts();
  const errors = shown.map((text) => text.trim()).filter((text) => text.length > 0);
  expect({ step, errors }).toEqual({ step, errors: [] });
}

async function step(name: string): Promise<void> {
  await noHorizonError(name);
  shot += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
}

/**
 * The refusals Horizon met from a real Keystone, Nova and Neutron on the same pages (captured call by
 * call) and takes in its stride: the domain-scoped token it asks for at login, the floating IPs of a
 * cloud without routers, the consoles of a server that is not running.
 */
const CAPTURED_REFUSALS = [
  { method: 'POST', path: /^\/v3\/auth\/tokens$/, status: 401 },
  { method: 'GET', path: /^\/networking\/v2\.0\/floatingips$/, status: 404 },
  { method: 'POST', path: /^\/v2\.1\/servers\/[0-9a-f-]{36}\/action$/, status: 409 },
];

const row = () => page.locator('#instances tbody tr', { hasText: SERVER });

/** The text of the row's Status cell, found by its column's heading. */
async function rowStatus(): Promise<string> {
  const headings = (await page.locator('#instances thead tr').last().locator('th').allInnerTexts()).map(
    (text) => text.trim(),
  );
  return (await row().locator('td').nth(headings.indexOf('Status')).innerText()).trim();
}

/** Waits, as a user watching the list would, for the row's status to read `status`. */
async function rowTurns(status: string): Promise<void> {
  await eventually(
    `the row to show ${status}`,
    async () => ((await rowStatus()) === status ? true : undefined),
    {
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  // The access log names each call's client, which tells Horizon's calls from this suite's own.
  await nimbusCommand(stateDir, 'up', ['--dashboard', '--rig-prefix', prefix], 300_000, {
    NIMBUS_API_ACCESS_LOG: 'true',
  });
  env = envOf(join(stateDir, 'env'));
  const secrets = JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as {
    adminPassword: string;
  };
  const admin = await OpenStackHttp.login(env.API_URL ?? '', {
    user: 'admin',
    password: secrets.adminPassword,
    project: 'admin',
  });

  // A project and its member, through the identity API as an operator would make them.
  const project = ok(
    await admin.identity<{ project: Json }>('POST', '/projects', { project: { name: 'horizon-demo' } }),
    'project',
  ).project;
  const user = ok(
    await admin.identity<{ user: Json }>('POST', '/users', {
      user: { name: 'hz-alice', password: PASSWORD },
    }),
    'user',
  ).user;
  const roles = ok(await admin.identity<{ roles: Json[] }>('GET', '/roles?name=member'), 'roles').roles;
  ok(
    await admin.identity(
      'PUT',
      `/projects/${String(project['id'])}/users/${String(user['id'])}/roles/${String(roles[0]?.['id'])}`,
    ),
    'role',
  );
  member = await OpenStackHttp.login(env.API_URL ?? '', {
    user: 'hz-alice',
    password: PASSWORD,
    project: 'horizon-demo',
  });

  // What the wizard offers but does not make: a network with a subnet, and a key pair.
  const network = ok(
    await member.network<{ network: Json }>('POST', '/networks', { network: { name: 'hz-net' } }),
    'network',
  ).network;
  ok(
    await member.network('POST', '/subnets', {
      subnet: { name: 'hz-subnet', network_id: network['id'], cidr: '10.42.0.0/24', ip_version: 4 },
    }),
    'subnet',
  );
  ok(await member.compute('POST', '/os-keypairs', { keypair: { name: 'hz-key' } }), 'key pair');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 360_000);

afterAll(async () => {
  await browser?.close();
  // The logs of what served the story, beside its screenshots.
  for (const log of ['api.log', 'dashboard.log'])
    if (existsSync(join(stateDir, 'logs', log)))
      copyFileSync(join(stateDir, 'logs', log), join(ARTIFACTS, log));
  await nimbusCommand(stateDir, 'down', ['--purge'], 180_000).catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}, 240_000);

describe('the launch story in the OpenStack dashboard', () => {
  it('is served by `up --dashboard` and named in the environment file', () => {
    expect(env.DASHBOARD_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('logs a project member in to an overview with quota charts and usage', async () => {
    await page.goto(`${env.DASHBOARD_URL}/auth/login/`);
    await page.fill('#id_username', 'hz-alice');
    await page.fill('#id_password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/project\/$/);
    await expectText(page.locator('#content_body'), 'Limit Summary');
    const charts = page.locator('.d3_quota_bar');
    expect(await charts.locator('svg').count()).toBeGreaterThan(5);
    const legends = (await charts.allInnerTexts()).join(' ');
    expect(legends).toMatch(/Instances\s+Used 0 of 10/);
    expect(legends).toMatch(/Networks\s+Used 1 of 100/);
    await expectText(page.locator('#content_body'), 'Usage Summary');
    await step('overview');
  }, 60_000);

  it('lists no instances, then launches one through the wizard', async () => {
    await page.goto(`${env.DASHBOARD_URL}/project/instances/`);
    await expectText(page.locator('#instances'), 'No items to display.');
    await step('instances-empty');

    await page.click('#instances__action_launch-ng');
    const wizard = page.locator('.modal-dialog');
    await wizard.waitFor();
    await page.fill('#name', SERVER);
    await step('wizard-details');
    const open = async (name: string) => {
      await wizard.locator('.wizard-nav li', { hasText: name }).first().click();
      await page.waitForTimeout(200);
    };
    // A row of the allocated table has a button to give it back; one still available, a button to take it.
    const allocate = async (text: string) => {
      const rowOf = wizard.locator('tr', { hasText: text });
      if ((await rowOf.locator('button.fa-arrow-down').count()) === 0)
        await rowOf.locator('button.fa-arrow-up').first().click();
      await rowOf.locator('button.fa-arrow-down').first().waitFor();
    };
    await open('Source');
    await allocate('nimbus-boot');
    await step('wizard-source');
    await open('Flavor');
    await allocate('m1.nano');
    await step('wizard-flavor');
    await open('Networks');
    await allocate('hz-net');
    await step('wizard-network');
    await open('Security Groups');
    await allocate('default');
    await step('wizard-security-group');
    await open('Key Pair');
    await allocate('hz-key');
    await step('wizard-key-pair');
    await wizard.locator('button.finish').click();
    await row().waitFor({ timeout: 30_000 });
    await step('launched');
  }, 90_000);

  it('shows the row go from Build to Active without a reload', async () => {
    await page.waitForLoadState('networkidle');
    let navigations = 0;
    const count = (frame: Frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    };
    page.on('framenavigated', count);
    const seen = new Set<string>([await rowStatus()]);
    await eventually(
      'the row to turn Active',
      async () => {
        const status = await rowStatus();
        seen.add(status);
        return status === 'Active' ? status : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    page.off('framenavigated', count);
    expect(navigations).toBe(0);
    expect([...seen]).toEqual(expect.arrayContaining(['Build', 'Active']));
    await step('active');
  }, 120_000);

  it('shows the address the port holds on the detail page', async () => {
    const servers = ok(
      await member.compute<{ servers: Json[] }>('GET', `/servers?name=${SERVER}`),
      'servers',
    ).servers;
    const serverId = String(servers[0]?.['id']);
    const ports = ok(
      await member.network<{ ports: Json[] }>('GET', `/ports?device_id=${serverId}`),
      'ports',
    ).ports;
    const address = String((ports[0]?.['fixed_ips'] as Json[])[0]?.['ip_address']);
    expect(address).toMatch(/^10\.42\.0\.\d+$/);
    await row().locator('a', { hasText: SERVER }).click();
    await page.waitForURL(new RegExp(`/project/instances/${serverId}/`));
    await expectText(page.locator('.detail'), address);
    await step('detail');
  }, 60_000);

  it("connects the console tab's noVNC to the guest's screen", async () => {
    await page.locator('.nav-tabs a', { hasText: 'Console' }).click();
    const frame = page.frameLocator('#console_embed');
    await frame
      .locator('#status')
      .filter({ hasText: /^Connected/ })
      .waitFor({ timeout: 30_000 });
    const embedded = page.frames().find((candidate) => candidate.url().includes('vnc_lite.html'));
    expect(embedded).toBeDefined();
    const lit = await eventually(
      'the guest screen drawn on the canvas',
      async () => {
        const count = await litPixels(embedded!);
        return count > 200 ? count : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(lit).toBeGreaterThan(200);
    await step('console');
  }, 60_000);

  it("shuts the instance off and starts it again from the row's menu", async () => {
    await page.goto(`${env.DASHBOARD_URL}/project/instances/`);
    // An action is the row's button when it is the likely one, else in the row's menu; some ask to confirm.
    const act = async (action: string) => {
      const button = row().locator('.btn-group > .btn', { hasText: action });
      if (await button.isVisible()) await button.click();
      else {
        await row().locator('.dropdown-toggle').click();
        await row().locator('.dropdown-menu').getByText(action, { exact: true }).click();
      }
      const confirm = page.locator(
        '.modal-dialog .modal-footer .btn-danger, .modal-dialog .modal-footer .btn-primary',
      );
      const asked = await confirm
        .first()
        .waitFor({ timeout: 2_000 })
        .then(
          () => true,
          () => false,
        );
      if (asked) await confirm.first().click();
    };
    await act('Shut Off Instance');
    await rowTurns('Shutoff');
    await step('shut-off');
    await act('Start Instance');
    await rowTurns('Active');
    await step('started');
  }, 150_000);

  it('lists Create, Stop and Start in the action log', async () => {
    await row().locator('a', { hasText: SERVER }).click();
    await page.click('a:has-text("Action Log")');
    const log = page.locator('#audit');
    await expectText(log, 'Create');
    const actions = await log.locator('tbody tr td').allInnerTexts();
    expect(actions.map((action) => action.trim())).toEqual(
      expect.arrayContaining(['Create', 'Stop', 'Start']),
    );
    await step('action-log');
  }, 60_000);

  it('deletes the instance and the row goes', async () => {
    await page.goto(`${env.DASHBOARD_URL}/project/instances/`);
    // Horizon's themed checkboxes hide the input itself.
    await row().locator('input[type=checkbox]').dispatchEvent('click');
    await page.click('#instances__action_delete');
    await page.locator('.modal-dialog .btn-danger').click();
    await eventually('the row to disappear', async () => ((await row().count()) === 0 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    await step('deleted');
  }, 120_000);

  it('is stopped by `npm run down`, its worker with it', async () => {
    const record = JSON.parse(readFileSync(join(stateDir, 'run', 'dashboard.json'), 'utf8')) as {
      pid: number;
      argv: string[];
    };
    const ini = record.argv.at(-1) ?? '';
    expect(ini).toMatch(/uwsgi\.ini$/);
    expect(processesRunning(ini)).toBeGreaterThanOrEqual(2);
    expect(await nimbusCommand(stateDir, 'down', [], 180_000)).toMatch(/^dashboard: stopped$/m);
    expect(alive(String(record.pid))).toBe(false);
    expect(processesRunning(ini)).toBe(0);
  }, 200_000);

  it('answered every backend call Horizon made with a 2xx, or the 4xx the real services gave it', () => {
    const calls = [
      ...readFileSync(join(stateDir, 'logs', 'api.log'), 'utf8')
        // The logger colours its lines.
        .replace(/\u001b\[[0-9;]*m/g, '')
        .matchAll(/\b(GET|POST|PUT|PATCH|DELETE|HEAD) (\/\S*) (\d{3}) \d+ms \S+ (\S+)/g),
    ]
      .map(([, method = '', path = '', status = '', client = '']) => ({
        method,
        path,
        status: Number(status),
        client,
      }))
      // This suite's own calls are Node's; Horizon's come from the Python clients.
      .filter((call) => call.client !== 'node');
    expect(calls.length).toBeGreaterThan(100);
    const unexpected = calls.filter(
      (call) =>
        call.status >= 300 &&
        !CAPTURED_REFUSALS.some(
          (refusal) =>
            refusal.method === call.method && refusal.path.test(call.path) && refusal.status === call.status,
        ),
    );
    expect(unexpected).toEqual([]);
  });

  it('made Nimbus and Horizon answer no 5xx on the way', () => {
    const apiLog = readFileSync(join(stateDir, 'logs', 'api.log'), 'utf8');
    expect(apiLog).not.toMatch(/unexpected error|did not answer/);
    const horizonLog = readFileSync(join(stateDir, 'logs', 'dashboard.log'), 'utf8');
    expect(horizonLog.match(/\(HTTP\/1\.1 5\d\d\)/g) ?? []).toEqual([]);
    expect(horizonLog).toMatch(/\(HTTP\/1\.1 200\)/);
  });
});

/** Processes whose command line names this file (uWSGI's master and worker both do). */
function processesRunning(file: string): number {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && alive(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(file);
      } catch {
        return false;
      }
    }).length;
}

async function expectText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 30_000 });
}
