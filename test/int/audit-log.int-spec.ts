import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { runAudit } from '../../apps/audit/src/audit-cli.js';
import type { AuditIo } from '../../apps/audit/src/cli.js';
import { type Harness, type Member, startHarness } from '../../apps/api/test/support/api-harness.js';
import { makeActive, registerHost, publicImage } from '../../apps/api/test/support/simulate.js';
import { eventually } from '../support/eventually.js';

type Json = Record<string, unknown>;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe('npm run audit: the reference subscriber and its tamper-evident log', () => {
  let harness: Harness;
  let alice: Member;
  let imageId: string;
  let dir: string;

  const env = (member: Member): Record<string, string> => ({
    OS_AUTH_URL: `${harness.url}/v3`,
    OS_USERNAME: member.name,
    OS_PASSWORD: member.password,
    OS_PROJECT_NAME: 'audit-log-a',
  });

  const audit = async (
    argv: string[],
    options: { env?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Run> => {
    let out = '';
    let err = '';
    const io: AuditIo = {
      env: options.env ?? env(alice),
      cwd: dir,
      write: (text) => {
        out += text;
      },
      warn: (text) => {
        err += text.endsWith('\n') ? text : `${text}\n`;
      },
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const code = await runAudit(argv, io);
    return { code, out, err };
  };

  const records = (file: string): Json[] =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Json);

  const boot = async (name: string): Promise<string> => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: { server: { name, imageRef: imageId, flavorRef: '0', networks: 'none' } },
    });
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    const id = String((created.body as { server: Json }).server['id']);
    await makeActive(harness, id, 'hv-1');
    return id;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nimbus-audit-'));
    harness = await startHarness();
    const admin = await harness.adminToken();
    alice = await harness.member('audit-log-a', 'audit-log-alice');
    await harness.member('audit-log-b', 'audit-log-bob');
    imageId = await publicImage(harness, admin);
    await registerHost(harness, 'hv-1');
    for (let n = 0; n < 3; n += 1) await boot(`log-${n}`);
  }, 60_000);

  afterAll(async () => {
    await harness.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports a log that verifies, and with one record changed fails verification at that record', async () => {
    const file = join(dir, 'export.jsonl');
    const exported = await audit(['export', '--out', file]);
    expect(exported).toMatchObject({ code: 0 });
    expect(exported.out).toMatch(/record\(s\) written to .*; 0 duplicate\(s\) dropped; 0 gap\(s\)/);
    const written = records(file);
    expect(written.length).toBeGreaterThan(10);
    expect(written[0]).toMatchObject({ specversion: '1.0', prevhash: '0'.repeat(64) });
    expect(written.every((record) => record['nimbusproject'] === alice.projectId)).toBe(true);

    expect(await audit(['verify', file])).toMatchObject({
      code: 0,
      out: expect.stringContaining('the chain is whole'),
    });

    const lines = readFileSync(file, 'utf8').split('\n');
    const tampered = join(dir, 'tampered.jsonl');
    lines[4] = lines[4]!
      .replace(/"name":"log-\d"/, '"name":"innocent"')
      .replace(/"actoruser":"[^"]+"/, '"actoruser":"someone-else"');
    expect(lines[4]).not.toBe(readFileSync(file, 'utf8').split('\n')[4]);
    writeFileSync(tampered, lines.join('\n'));
    const failed = await audit(['verify', tampered]);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('line 5: its hash does not match its content');
    const json = await audit(['verify', tampered, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, line: 5, records: 4 });

    const dropped = join(dir, 'dropped.jsonl');
    writeFileSync(dropped, [...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    expect(await audit(['verify', dropped])).toMatchObject({
      code: 1,
      out: expect.stringContaining('line 3:'),
    });
  });

  it('resumes a log after its last record: no gap, no duplicate, one chain', async () => {
    const file = join(dir, 'resumed.jsonl');
    expect((await audit(['export', '--out', file, '--json'])).code).toBe(0);
    const first = records(file).length;
    await boot('log-later');
    const again = await audit(['export', '--out', file, '--json']);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.out) as Json;
    expect(summary).toMatchObject({ duplicates: 0, gaps: [] });
    expect(summary['records']).toBeGreaterThan(0);
    const all = records(file);
    expect(all.length).toBe(first + Number(summary['records']));
    const ids = all.map((record) => record['id']);
    expect(new Set(ids).size).toBe(ids.length);
    const fresh = join(dir, 'fresh.jsonl');
    await audit(['export', '--out', fresh]);
    expect(records(fresh).map((record) => record['id'])).toEqual(ids);
    expect((await audit(['verify', file])).code).toBe(0);
    // A log resumed with --since would have two starts: refused before anything is done.
    expect((await audit(['export', '--out', file, '--since', 'beginning'])).code).toBe(2);
  }, 30_000);

  it('tails live events into the log until stopped, and a second tail carries on where it stopped', async () => {
    const file = join(dir, 'tail.jsonl');
    const stop = new AbortController();
    const tailing = audit(['tail', '--out', file], { signal: stop.signal });
    const server = await boot('log-live');
    await eventually('the live boot in the tailed log', () =>
      existsSync(file) && records(file).some((record) => record['subject'] === `instance-${server}`)
        ? true
        : undefined,
    );
    stop.abort();
    expect((await tailing).code).toBe(0);
    const before = records(file).length;
    const next = await boot('log-after-tail');
    const resumed = await audit(['export', '--out', file, '--json']);
    expect(JSON.parse(resumed.out)).toMatchObject({ duplicates: 0, gaps: [] });
    expect(records(file).length).toBeGreaterThan(before);
    expect(records(file).some((record) => record['subject'] === `instance-${next}`)).toBe(true);
    expect((await audit(['verify', file])).code).toBe(0);
  }, 30_000);

  it('exits with 2 and says why on bad input, and with 1 when the feed refuses', async () => {
    expect(await audit(['export', '--since', 'yesterday'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--since must be'),
    });
    expect((await audit(['frobnicate'])).code).toBe(2);
    expect((await audit(['verify'])).code).toBe(2);
    expect(await audit(['verify', join(dir, 'absent.jsonl')])).toMatchObject({
      code: 2,
      err: expect.stringContaining('no such file'),
    });
    expect(await audit(['export'], { env: {} })).toMatchObject({
      code: 2,
      err: expect.stringContaining('OS_AUTH_URL'),
    });
    const refused = await audit(['export', '--all-projects']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('HTTP 403');
  });

  it('writes records to standard output when no file is given, the summary to standard error', async () => {
    const run = await audit(['export']);
    expect(run.code).toBe(0);
    const lines = run.out.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(10);
    expect(JSON.parse(lines[0]!)).toHaveProperty('hash');
    expect(run.err).toContain('record(s) written');
  });

  it('waits for a server to become ACTIVE by watching, and says when it ends elsewhere', async () => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: { server: { name: 'log-wait', imageRef: imageId, flavorRef: '0', networks: 'none' } },
    });
    const id = String((created.body as { server: Json }).server['id']);
    const waiting = audit(['wait', id, '--status', 'ACTIVE', '--timeout', '20', '--json']);
    await makeActive(harness, id, 'hv-1');
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.out)).toMatchObject({ server: id, status: 'ACTIVE', reached: true });
    expect(waited.err).toContain('ACTIVE');

    const unknown = await audit(['wait', '00000000-0000-4000-8000-000000000000', '--timeout', '20']);
    expect(unknown).toMatchObject({ code: 1, out: expect.stringContaining('no server') });
    const shutoff = await audit(['wait', id, '--status', 'SHUTOFF', '--timeout', '1']);
    expect(shutoff).toMatchObject({
      code: 1,
      out: expect.stringContaining('did not become SHUTOFF within 1 s'),
    });
    expect((await audit(['wait', 'not-a-server'])).code).toBe(2);
    expect((await audit(['wait', id, '--status', 'SLEEPY'])).code).toBe(2);
  }, 30_000);

  it('says so when the feed repeats an event or skips past one, drops the repeat and exits with 1', async () => {
    // A feed that misbehaves on purpose: the API never does, so a stand-in answers for it.
    const lines = [
      { specversion: '1.0', id: 'e1', source: '/nimbus/instance', type: 't', position: '5' },
      {
        specversion: '1.0',
        id: 'e2',
        source: '/nimbus/instance',
        type: 't',
        position: '9',
        previousposition: '5',
      },
      {
        specversion: '1.0',
        id: 'e2',
        source: '/nimbus/instance',
        type: 't',
        position: '9',
        previousposition: '5',
      },
      {
        specversion: '1.0',
        id: 'e4',
        source: '/nimbus/instance',
        type: 't',
        position: '20',
        previousposition: '12',
      },
    ];
    const fake = createServer((request, response) => {
      if (request.method === 'POST') {
        response.writeHead(201, { 'X-Subject-Token': 'fake-token', 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({ token: { expires_at: new Date(Date.now() + 3_600_000).toISOString() } }),
        );
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      response.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as AddressInfo;
    try {
      const file = join(dir, 'misbehaving.jsonl');
      const run = await audit(['export', '--out', file, '--json'], {
        env: {
          OS_AUTH_URL: `http://127.0.0.1:${port}/v3`,
          OS_USERNAME: 'u',
          OS_PASSWORD: 'p',
          OS_PROJECT_NAME: 'x',
        },
      });
      expect(run.code).toBe(1);
      expect(run.err).toContain('duplicate at position 9 dropped');
      expect(run.err).toContain('GAP before position 20: the log holds up to 9');
      expect(JSON.parse(run.out)).toMatchObject({
        records: 3,
        duplicates: 1,
        gaps: [{ after: '9', at: '20' }],
      });
      expect(records(file).map((record) => record['id'])).toEqual(['e1', 'e2', 'e4']);
      expect((await audit(['verify', file])).code).toBe(0);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
