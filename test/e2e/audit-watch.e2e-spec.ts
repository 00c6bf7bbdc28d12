/**
 * Audit subscribers and the servers watch on the whole system (NATS in operator mode, as `npm run up`
 * runs it, and a rig host of real libvirt), during one burst of boots in two projects:
 * - project A's reference subscribers, real `audit tail` processes over NATS and over HTTP, are killed
 *   with SIGKILL mid-burst and started again, and their logs end with every one of A's events once, in
 *   the feed's order; B's subscriber sees none of A's; B's credentials cannot reach A's feed however
 *   B's client asks, because the NATS server refuses it; the log verifies and a log with one record
 *   changed fails at that record;
 * - a watch started before the burst sees every server go BUILD to ACTIVE, in order, and resumes from
 *   its last version after the connection is cut;
 * - `ops verify` finds every invariant holding on the store the suite wrote.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstream } from '@nats-io/jetstream';
import { type NatsConnection, connect, credsAuthenticator } from '@nats-io/transport-node';

import { comparePositions, parsePosition } from '#libs/audit';

import { openLineFeed } from '../../apps/api/test/support/line-feed.js';
import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import { waitForExit } from '../support/managed-process.js';
import { type Member, addMember, loginMember } from '../support/members.js';
import { bootServers, settledServers } from '../support/servers.js';
import { type NimbusSystem, startSystem } from '../support/system.js';

type Json = Record<string, unknown>;

const AUDIT_CLI = join(process.cwd(), 'dist/apps/audit/src/main.js');
const OPS_CLI = join(process.cwd(), 'dist/apps/ops/src/main.js');

const serverOf = (line: Json): Json => (line['object'] as { server: Json }).server;

/** Each server's statuses in the order the watch reported them. */
function statusesBy(lines: readonly Json[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const line of lines) {
    if (line['type'] === 'BOOKMARK') continue;
    const server = serverOf(line);
    const id = String(server['id']);
    seen.set(id, [...(seen.get(id) ?? []), String(server['status'])]);
  }
  return seen;
}

let system: NimbusSystem;
let dir: string;
let alice: Member;
let bob: Member;
let aliceApi: OpenStackHttp;
let bobApi: OpenStackHttp;
const children = new Set<ChildProcess>();
const connections: NatsConnection[] = [];

const credentialsOf = (member: Member): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'] ?? '',
  OS_AUTH_URL: `${system.apiUrl!}/v3`,
  OS_USERNAME: member.user,
  OS_PASSWORD: member.password,
  OS_PROJECT_NAME: member.project,
});

interface Tail {
  readonly child: ChildProcess;
  stderr(): string;
}

/** A long-running `audit tail`, as an auditor would leave it running. */
function startTail(member: Member, file: string, via: readonly string[]): Tail {
  const child = spawn(process.execPath, [AUDIT_CLI, 'tail', ...via, '--out', file], {
    cwd: dir,
    env: credentialsOf(member),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.once('exit', () => children.delete(child));
  return { child, stderr: () => stderr };
}

function runAudit(member: Member, argv: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [AUDIT_CLI, ...argv],
      { cwd: dir, env: credentialsOf(member) },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${out}${err}` }),
    );
  });
}

const records = (file: string): Json[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Json)
    : [];

/** The ids of the member's project feed over HTTP, up to the store's end: what the log must hold. */
async function httpFeedIds(api: OpenStackHttp): Promise<string[]> {
  const response = await fetch(`${system.apiUrl!}/audit/v1/events?follow=false`, {
    headers: { 'X-Auth-Token': api.token },
  });
  expect(response.status).toBe(200);
  return (await response.text())
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => String((JSON.parse(line) as Json)['id']));
}

interface Grant {
  readonly nats_url: string;
  readonly stream: string;
  readonly consumer: string;
  readonly inbox_prefix: string;
  readonly credentials: string;
}

async function subscription(api: OpenStackHttp, body: Json): Promise<{ status: number; grant: Grant }> {
  const response = await fetch(`${system.apiUrl!}/audit/v1/subscriptions`, {
    method: 'POST',
    headers: { 'X-Auth-Token': api.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ subscription: body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    grant: (response.ok ? (JSON.parse(text) as { subscription: Grant }).subscription : {}) as Grant,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimbus-audit-nats-e2e-'));
  system = await startSystem({ rigHosts: 1, api: true, natsAuth: true });
  alice = await addMember(system.store, 'audit-e2e-a', 'audit-e2e-alice');
  bob = await addMember(system.store, 'audit-e2e-b', 'audit-e2e-bob');
  aliceApi = await loginMember(system.apiUrl!, alice);
  bobApi = await loginMember(system.apiUrl!, bob);
}, 180_000);

afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await waitForExit(child);
  }
  for (const connection of connections) await connection.close().catch(() => undefined);
  await system.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const aliceNatsLog = (): string => join(dir, 'alice-nats.jsonl');
const aliceHttpLog = (): string => join(dir, 'alice-http.jsonl');
const bobLog = (): string => join(dir, 'bob-nats.jsonl');
let aliceIds: string[] = [];
let beforeKill = { nats: 0, http: 0 };
const watched: Json[] = [];
let watchCutAt = 0;
let tails: { aliceNats: Tail; aliceHttp: Tail; bob: Tail };

/** The burst every check below looks at: subscribers and a watch running, and killed or cut mid-way. */
beforeAll(async () => {
  tails = {
    aliceNats: startTail(alice, aliceNatsLog(), ['--nats', 'siem']),
    aliceHttp: startTail(alice, aliceHttpLog(), []),
    bob: startTail(bob, bobLog(), ['--nats', 'siem']),
  };
  const watchUrl = `${system.apiUrl!}/v2.1/servers/watch`;
  const first = await openLineFeed(watchUrl, aliceApi.token);
  await first.waitFor(1, "the watch's list (a bookmark: A has no servers yet)");

  const aliceBoots = await bootServers(aliceApi, 'audit-a', 3);
  const bobBoots = await bootServers(bobApi, 'audit-b', 1);
  aliceIds = aliceBoots.map((reply) => reply.body.server.id);

  // Mid-burst: once the logs hold some of it, kill both of A's subscribers outright and start them
  // again; cut the watch and resume it from the last version it sent.
  const ofBurst = (record: Json): boolean =>
    aliceIds.includes(String(record['subject']).slice('instance-'.length));
  await eventually('the first boot events in both logs', () =>
    records(aliceNatsLog()).some(ofBurst) && records(aliceHttpLog()).some(ofBurst) ? true : undefined,
  );
  for (const tail of [tails.aliceNats, tails.aliceHttp]) {
    tail.child.kill('SIGKILL');
    await waitForExit(tail.child);
  }
  beforeKill = { nats: records(aliceNatsLog()).length, http: records(aliceHttpLog()).length };
  tails.aliceNats = startTail(alice, aliceNatsLog(), ['--nats', 'siem']);
  tails.aliceHttp = startTail(alice, aliceHttpLog(), []);
  // One more boot after the kill, so the restarted subscribers always have events the killed ones
  // never saw, however quickly the first burst went by.
  const late = await bootServers(aliceApi, 'audit-a-late', 1);
  aliceIds.push(late[0]!.body.server.id);

  await first.waitFor(2, 'a change of the burst');
  first.cut();
  await first.ended;
  watched.push(...first.lines);
  watchCutAt = watched.length;
  const version = String(watched[watched.length - 1]!['resourceVersion']);
  const resumed = await openLineFeed(
    `${watchUrl}?resourceVersion=${encodeURIComponent(version)}`,
    aliceApi.token,
  );

  const settled = await settledServers(aliceApi, aliceIds, 240_000);
  expect(settled.map((server) => server.status)).toEqual(aliceIds.map(() => 'ACTIVE'));
  await settledServers(bobApi, [bobBoots[0]!.body.server.id], 240_000);
  await eventually('every server ACTIVE on the resumed watch', () => {
    const statuses = statusesBy([...watched, ...resumed.lines]);
    return aliceIds.every((id) => statuses.get(id)?.at(-1) === 'ACTIVE') ? true : undefined;
  });
  resumed.cut();
  await resumed.ended;
  watched.push(...resumed.lines);
}, 300_000);

it("gives A's subscribers, over NATS and over HTTP, exactly A's events once each across a SIGKILL", async () => {
  const expected = await httpFeedIds(aliceApi);
  for (const [log, killedAt, tail] of [
    [aliceNatsLog(), beforeKill.nats, tails.aliceNats],
    [aliceHttpLog(), beforeKill.http, tails.aliceHttp],
  ] as const) {
    const kept = await eventually(
      `every one of A's events in ${log}`,
      () => {
        const ids = records(log).map((record) => String(record['id']));
        return ids.length >= expected.length ? ids : undefined;
      },
      30_000,
    );
    // The kill came mid-burst; after it, every event once, in the feed's order: no gap, no duplicate.
    expect(killedAt).toBeLessThan(expected.length);
    expect(kept).toEqual(expected);
    expect(tail.stderr()).not.toContain('GAP');
  }
  for (const id of aliceIds)
    expect(
      records(aliceNatsLog())
        .filter((record) => record['subject'] === `instance-${id}`)
        .map((record) => record['type']),
    ).toEqual(['org.nimbus.BootRequested.v4', 'org.nimbus.HostSelected.v1', 'org.nimbus.DomainStarted.v1']);
}, 60_000);

it("gives B's subscriber B's events and none of A's", async () => {
  const aliceEvents = new Set(await httpFeedIds(aliceApi));
  const bobExpected = await httpFeedIds(bobApi);
  await eventually("B's events in B's log", () =>
    records(bobLog()).length >= bobExpected.length ? true : undefined,
  );
  const bobRecords = records(bobLog());
  expect(bobRecords.map((record) => String(record['id']))).toEqual(bobExpected);
  expect(bobRecords.every((record) => record['nimbusproject'] === bob.projectId)).toBe(true);
  expect(bobRecords.filter((record) => aliceEvents.has(String(record['id'])))).toEqual([]);
}, 60_000);

it("refuses B's forged reads of A's feed: the API says 403, the NATS server refuses the rest", async () => {
  expect((await subscription(bobApi, { name: 'peek', project_id: alice.projectId })).status).toBe(403);
  const bobs = await subscription(bobApi, { name: 'siem' });
  expect(bobs.status).toBe(200);
  const aliceGrant = (await subscription(aliceApi, { name: 'siem' })).grant;
  const forged = await connect({
    servers: bobs.grant.nats_url,
    authenticator: credsAuthenticator(new TextEncoder().encode(bobs.grant.credentials)),
    inboxPrefix: bobs.grant.inbox_prefix,
    reconnect: false,
  });
  connections.push(forged);
  const errors: string[] = [];
  void (async () => {
    for await (const status of forged.status())
      if (status.type === 'error') errors.push(status.error.message);
  })();
  forged.subscribe(`nimbus.audit.project.${alice.projectId}`);
  forged.subscribe('nimbus.audit.>');
  await eventually('the server to refuse both subscriptions', () =>
    errors.filter((error) => /permissions violation for subscription/i.test(error)).length >= 2
      ? true
      : undefined,
  );
  await expect(
    jetstream(forged, { timeout: 2_000 }).consumers.get(aliceGrant.stream, aliceGrant.consumer),
  ).rejects.toThrow();
}, 60_000);

it('verifies the log, and fails a copy with one record changed at that record', async () => {
  tails.aliceNats.child.kill('SIGTERM');
  await waitForExit(tails.aliceNats.child);
  expect((await runAudit(alice, ['verify', aliceNatsLog()])).code).toBe(0);
  const lines = readFileSync(aliceNatsLog(), 'utf8').split('\n');
  const changed = JSON.parse(lines[2]!) as Json;
  changed['time'] = '2000-01-01T00:00:00.000Z';
  lines[2] = JSON.stringify(changed);
  const tampered = join(dir, 'tampered.jsonl');
  writeFileSync(tampered, lines.join('\n'));
  const verdict = await runAudit(alice, ['verify', tampered]);
  expect(verdict.code).toBe(1);
  expect(verdict.output).toMatch(/line 3: /);
}, 60_000);

it('shows the watch every server of the burst going BUILD to ACTIVE, in order, across the cut', () => {
  expect(watchCutAt).toBeGreaterThan(1);
  const statuses = statusesBy(watched);
  for (const id of aliceIds) {
    const seen = statuses.get(id) ?? [];
    expect(seen[0]).toBe('BUILD');
    expect(seen.at(-1)).toBe('ACTIVE');
    expect(seen.indexOf('ACTIVE')).toBe(seen.length - 1);
    expect(seen.every((status) => status === 'BUILD' || status === 'ACTIVE')).toBe(true);
  }
  // Versions only grow across the cut: nothing was sent twice, and B's server never appears.
  const versions = watched.map((line) => parsePosition(String(line['resourceVersion']))!);
  for (let index = 1; index < versions.length; index += 1)
    expect(comparePositions(versions[index - 1]!, versions[index]!)).toBeLessThanOrEqual(0);
  const changes = watched.filter((line) => line['type'] !== 'BOOKMARK');
  expect(new Set(changes.map((line) => line['resourceVersion'])).size).toBe(changes.length);
  expect([...statuses.keys()].sort()).toEqual([...aliceIds].sort());
}, 60_000);

it('finds every invariant holding on the store the suite wrote', async () => {
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [OPS_CLI, 'verify', '--url', system.eventStore.connectionString],
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${out}${err}` }),
    );
  });
  expect(result.output).toMatch(/every invariant holds/);
  expect(result.code).toBe(0);
}, 60_000);
