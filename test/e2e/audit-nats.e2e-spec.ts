/**
 * Audit subscribers over NATS on the whole system (NATS in operator mode, as `npm run up` runs it, and
 * a rig host of real libvirt): the reference subscriber of project A, a real `audit tail --nats`
 * process, receives exactly A's events of a burst of boots, is killed with SIGKILL mid-burst and started
 * again, and its log ends with every event once, in the feed's order, and verifies; B's subscriber
 * sees none of A's; B's credentials cannot reach A's feed, however B's client asks, because the NATS
 * server refuses it; a log with one record changed fails verification at that record.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstream } from '@nats-io/jetstream';
import { type NatsConnection, connect, credsAuthenticator } from '@nats-io/transport-node';

import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import { waitForExit } from '../support/managed-process.js';
import { type Member, addMember, loginMember } from '../support/members.js';
import { bootServers, settledServers } from '../support/servers.js';
import { type NimbusSystem, startSystem } from '../support/system.js';

type Json = Record<string, unknown>;

const AUDIT_CLI = join(process.cwd(), 'dist/apps/audit/src/main.js');

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

/** A long-running `audit tail`, as an auditor would leave it running. */
function startTail(member: Member, file: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [AUDIT_CLI, 'tail', '--nats', 'siem', '--out', file], {
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

it("gives A's subscriber exactly A's events across a SIGKILL, B's none, and refuses B's forged reads at the NATS server", async () => {
  const aliceLog = join(dir, 'alice.jsonl');
  const bobLog = join(dir, 'bob.jsonl');
  let aliceTail = startTail(alice, aliceLog);
  const bobTail = startTail(bob, bobLog);

  const aliceBoots = await bootServers(aliceApi, 'audit-a', 3);
  const bobBoots = await bootServers(bobApi, 'audit-b', 1);
  const aliceIds = aliceBoots.map((reply) => reply.body.server.id);
  const bobIds = bobBoots.map((reply) => reply.body.server.id);

  // Mid-burst: once the log holds some of the burst, kill the subscriber outright and start it again.
  await eventually('the first boot events in the log', () =>
    records(aliceLog).some((record) => aliceIds.includes(String(record['subject']).replace(/^instance-/, '')))
      ? true
      : undefined,
  );
  aliceTail.child.kill('SIGKILL');
  await waitForExit(aliceTail.child);
  const beforeKill = records(aliceLog).length;
  aliceTail = startTail(alice, aliceLog);

  const settled = await settledServers(aliceApi, aliceIds, 240_000);
  expect(settled.map((server) => server.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
  await settledServers(bobApi, bobIds, 240_000);

  const expected = await httpFeedIds(aliceApi);
  const kept = await eventually(
    "every one of A's events in A's log",
    () => {
      const ids = records(aliceLog).map((record) => String(record['id']));
      return ids.length >= expected.length ? ids : undefined;
    },
    30_000,
  );
  // Every event once, in the feed's order: no gap, no duplicate, after the kill as before it.
  expect(beforeKill).toBeLessThan(expected.length);
  expect(kept).toEqual(expected);
  expect(aliceTail.stderr()).not.toContain('GAP');
  for (const id of aliceIds)
    expect(
      records(aliceLog)
        .filter((record) => record['subject'] === `instance-${id}`)
        .map((r) => r['type']),
    ).toEqual(['org.nimbus.BootRequested.v2', 'org.nimbus.HostSelected.v1', 'org.nimbus.DomainStarted.v1']);

  // B's subscriber has B's events and none of A's.
  const bobExpected = await httpFeedIds(bobApi);
  await eventually("B's events in B's log", () =>
    records(bobLog).length >= bobExpected.length ? true : undefined,
  );
  const bobRecords = records(bobLog);
  expect(bobRecords.every((record) => record['nimbusproject'] === bob.projectId)).toBe(true);
  expect(bobRecords.filter((record) => expected.includes(String(record['id'])))).toEqual([]);

  // B cannot ask the API for A's feed, and B's NATS credentials cannot read it whatever B's client does.
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
  await eventually('the server to refuse the subscriptions', () =>
    errors.filter((error) => /permissions violation for subscription/i.test(error)).length >= 2
      ? true
      : undefined,
  );
  await expect(
    jetstream(forged, { timeout: 2_000 }).consumers.get(aliceGrant.stream, aliceGrant.consumer),
  ).rejects.toThrow();

  // The log verifies; a copy with one record changed fails at that record.
  aliceTail.child.kill('SIGTERM');
  await waitForExit(aliceTail.child);
  expect((await runAudit(alice, ['verify', aliceLog])).code).toBe(0);
  const lines = readFileSync(aliceLog, 'utf8').split('\n');
  const changed = JSON.parse(lines[2]!) as Json;
  changed['time'] = '2000-01-01T00:00:00.000Z';
  lines[2] = JSON.stringify(changed);
  const tampered = join(dir, 'tampered.jsonl');
  writeFileSync(tampered, lines.join('\n'));
  const verdict = await runAudit(alice, ['verify', tampered]);
  expect(verdict.code).toBe(1);
  expect(verdict.output).toMatch(/line 3: /);
  bobTail.child.kill('SIGTERM');
  await waitForExit(bobTail.child);
}, 420_000);
