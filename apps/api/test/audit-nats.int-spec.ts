import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { decode } from '@nats-io/jwt';
import { type NatsConnection, connect, credsAuthenticator } from '@nats-io/transport-node';

import { GapDetector, parsePosition } from '#libs/audit';
import { createNatsAccounts, mintUserCreds, operatorModeConfig, type NatsAccounts } from '#libs/bus';

import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually } from '../../../test/support/eventually.js';
import {
  ADMIN_SUBJECT,
  AUDIT_STREAM,
  NatsAuditStream,
  projectSubject,
} from '../src/audit/nats/audit-stream.js';
import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { makeActive, publicImage, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

const AUDIT_CLI = join(process.cwd(), 'dist/apps/audit/src/main.js');
/** Shorter than the served default, so the redelivery this suite waits for comes in seconds. */
const ACK_WAIT_MS = 5_000;

interface Grant {
  readonly nats_url: string;
  readonly stream: string;
  readonly consumer: string;
  readonly filter_subject: string;
  readonly inbox_prefix: string;
  readonly credentials: string;
  readonly expires_at: string;
}

/** Connects as a subscriber would with what the API handed out, and nothing else. */
const connectAs = (grant: Grant): Promise<NatsConnection> =>
  connect({
    servers: grant.nats_url,
    authenticator: credsAuthenticator(new TextEncoder().encode(grant.credentials)),
    inboxPrefix: grant.inbox_prefix,
    reconnect: false,
  });

/** Pulls what the consumer has (acking each when `ack`), until a pull comes back empty. */
async function drain(connection: NatsConnection, grant: Grant, ack = true): Promise<Json[]> {
  const consumer = await jetstream(connection).consumers.get(grant.stream, grant.consumer);
  const received: Json[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 200, expires: 1_000 });
    let count = 0;
    for await (const message of batch) {
      received.push(message.json<Json>());
      if (ack) message.ack();
      count += 1;
    }
    if (count === 0) return received;
  }
}

/** Drains again and again until every expected event id has arrived (or the time is up), keeping all. */
async function collectUntil(
  connection: NatsConnection,
  grant: Grant,
  expected: ReadonlySet<string>,
  timeoutMs = 15_000,
  ack = true,
): Promise<Json[]> {
  const received: Json[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    received.push(...(await drain(connection, grant, ack)));
    const ids = new Set(received.map((event) => String(event['id'])));
    if ([...expected].every((id) => ids.has(id))) break;
  }
  return received;
}

const idsOf = (events: readonly Json[]): Set<string> => new Set(events.map((event) => String(event['id'])));

describe('the audit feed over NATS', () => {
  let accounts: NatsAccounts;
  let nats: NatsProcess;
  let stream: NatsAuditStream;
  let harness: Harness;
  let dir: string;
  let admin: string;
  let alice: Member;
  let bob: Member;
  const connections: NatsConnection[] = [];
  const aliceServers: string[] = [];
  const bobServers: string[] = [];

  const subscribe = async (
    token: string,
    subscription: Json,
  ): Promise<{ status: number; grant: Grant; text: string }> => {
    const result = await harness.request('POST', '/audit/v1/subscriptions', {
      token,
      body: { subscription },
    });
    return {
      status: result.status,
      grant: (result.body as { subscription: Grant } | undefined)?.subscription as Grant,
      text: result.text,
    };
  };

  const open = async (grant: Grant): Promise<NatsConnection> => {
    const connection = await connectAs(grant);
    connections.push(connection);
    return connection;
  };

  const boot = async (member: Member, name: string): Promise<string> => {
    const image = await publicImage(harness, admin);
    const created = await harness.request('POST', '/v2.1/servers', {
      token: member.token,
      microversion: '2.37',
      body: { server: { name, imageRef: image, flavorRef: '0', networks: 'none' } },
    });
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    const id = String((created.body as { server: Json }).server['id']);
    await makeActive(harness, id, 'hv-1');
    return id;
  };

  /** Every event of the named instances, as ids, read from the store itself. */
  const storedIds = async (instances: readonly string[]): Promise<Set<string>> => {
    const ids = new Set<string>();
    for (const id of instances)
      for await (const event of harness.store.read(`instance-${id}`)) ids.add(event.metadata.eventId);
    return ids;
  };

  // The built CLI, as an auditor runs it: a process of its own with Alice's OS_* credentials.
  const audit = (argv: string[]): Promise<{ code: number; err: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [AUDIT_CLI, ...argv],
        {
          cwd: dir,
          env: {
            PATH: process.env['PATH'] ?? '',
            OS_AUTH_URL: `${harness.url}/v3`,
            OS_USERNAME: alice.name,
            OS_PASSWORD: alice.password,
            OS_PROJECT_NAME: 'nats-audit-a',
          },
        },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, err: stderr }),
      );
    });

  const logged = (file: string): string[] =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => String((JSON.parse(line) as Json)['id']));

  /** The ids the HTTP feed gives the token, in its order: what a log of the same feed must hold. */
  const overHttp = async (token: string): Promise<string[]> =>
    (await harness.request('GET', '/audit/v1/events?follow=false', { token })).text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => String((JSON.parse(line) as Json)['id']));

  beforeAll(async () => {
    accounts = await createNatsAccounts();
    nats = await startNatsProcess({ configLines: operatorModeConfig(accounts) });
    dir = mkdtempSync(join(tmpdir(), 'nimbus-audit-nats-'));
    const credsFile = join(dir, 'services.creds');
    writeFileSync(credsFile, accounts.serviceCreds, { mode: 0o600 });
    stream = await NatsAuditStream.connect(nats.url, credsFile, ACK_WAIT_MS);
    harness = await startHarness({
      audit: {
        stream,
        signer: {
          signingSeed: accounts.signingSeed,
          accountPublicKey: accounts.account.publicKey,
          natsUrl: nats.url,
        },
      },
    });
    admin = await harness.adminToken();
    alice = await harness.member('nats-audit-a', 'nats-audit-alice');
    bob = await harness.member('nats-audit-b', 'nats-audit-bob');
    await registerHost(harness, 'hv-1');
    for (let index = 0; index < 3; index += 1) {
      aliceServers.push(await boot(alice, `alice-${index}`));
      bobServers.push(await boot(bob, `bob-${index}`));
    }
  }, 120_000);

  afterAll(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
    await harness.stop();
    await stream.close();
    await nats.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("delivers exactly a project's events to its subscriber, linked so that no gap goes unseen", async () => {
    const created = await subscribe(alice.token, { name: 'siem' });
    expect(created.status).toBe(201);
    expect(created.grant.filter_subject).toBe(projectSubject(alice.projectId));
    const expected = await storedIds(aliceServers);
    const connection = await open(created.grant);
    const received = await collectUntil(connection, created.grant, expected);
    expect([...expected].filter((id) => !idsOf(received).has(id))).toEqual([]);
    expect(received.every((event) => event['nimbusproject'] === alice.projectId)).toBe(true);
    // Tenants never see where their servers run.
    const started = received.find((event) => event['type'] === 'org.nimbus.DomainStarted.v1');
    expect(started?.['data']).not.toHaveProperty('host');
    const detector = new GapDetector(null);
    for (const event of received) {
      const previous = event['previousposition'] as string | undefined;
      const arrival = detector.arrive(
        parsePosition(String(event['position']))!,
        previous === undefined ? null : parsePosition(previous),
      );
      expect(arrival.kind).toBe('next');
    }
  }, 60_000);

  it('refuses another project, on the API and on the NATS server itself', async () => {
    const alices = await subscribe(alice.token, { name: 'siem' });
    expect(alices.status).toBe(200);
    const asked = await subscribe(bob.token, { name: 'peek', project_id: alice.projectId });
    expect(asked.status).toBe(403);
    expect(asked.text).toContain('nimbus:audit:events');

    const bobs = await subscribe(bob.token, { name: 'siem' });
    expect(bobs.status).toBe(201);
    const connection = await open(bobs.grant);
    const errors: string[] = [];
    void (async () => {
      for await (const status of connection.status())
        if (status.type === 'error') errors.push(status.error.message);
    })();
    // A plain subscription to Alice's subject: the server refuses it.
    const subscription = connection.subscribe(projectSubject(alice.projectId)!);
    await eventually('the permissions violation', () =>
      /permissions violation for subscription/i.test(errors.join('\n')) ? true : undefined,
    );
    subscription.unsubscribe();
    // Alice's consumer, by name: Bob's credentials may not even ask about it.
    await expect(jetstream(connection).consumers.get(AUDIT_STREAM, alices.grant.consumer)).rejects.toThrow();
    // A consumer of his own on Alice's subject: the JetStream API is not his to call.
    const manager = await jetstreamManager(connection, { checkAPI: false });
    await expect(
      manager.consumers.add(AUDIT_STREAM, {
        durable_name: 'forged',
        filter_subject: projectSubject(alice.projectId)!,
        ack_policy: AckPolicy.Explicit,
      }),
    ).rejects.toThrow();
    // And his own feed holds none of Alice's events.
    const own = await drain(connection, bobs.grant);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((event) => event['nimbusproject'] === bob.projectId)).toBe(true);
  }, 60_000);

  it('resumes a subscriber after a crash: what it had not acknowledged comes again, and nothing is lost', async () => {
    const created = await subscribe(alice.token, { name: 'resume' });
    const first = await open(created.grant);
    const unacked = await drain(first, created.grant, false);
    expect(unacked.length).toBeGreaterThan(0);
    await first.close();
    aliceServers.push(await boot(alice, 'alice-late'));
    const expected = await storedIds(aliceServers);
    const again = await subscribe(alice.token, { name: 'resume' });
    expect(again.status).toBe(200);
    // The consumer waits for its acknowledgements (ACK_WAIT_MS) before it sends them again; a restarted
    // subscriber sees the redeliveries as duplicates of positions it kept, and drops them.
    const second = await open(again.grant);
    const redelivered = await collectUntil(second, again.grant, expected, 60_000);
    const kept = new Set([...idsOf(unacked), ...idsOf(redelivered)]);
    expect([...expected].filter((id) => !kept.has(id))).toEqual([]);
  }, 90_000);

  it("gives admins every project's events with the operator's detail, once each across an API restart", async () => {
    const created = await subscribe(admin, { name: 'all', all_projects: true });
    expect(created.grant.filter_subject).toBe(ADMIN_SUBJECT);
    const member = await subscribe(alice.token, { name: 'all-refused', all_projects: true });
    expect(member.status).toBe(403);
    await harness.restartApi();
    bobServers.push(await boot(bob, 'bob-late'));
    const expected = await storedIds([...aliceServers, ...bobServers]);
    const connection = await open(created.grant);
    const received = await collectUntil(connection, created.grant, expected);
    expect([...expected].filter((id) => !idsOf(received).has(id))).toEqual([]);
    const ids = received.map((event) => String(event['id']));
    expect(new Set(ids).size).toBe(ids.length);
    const started = received.find((event) => event['type'] === 'org.nimbus.DomainStarted.v1');
    expect(started?.['data']).toHaveProperty('host', 'hv-1');
  }, 60_000);

  it('hands out credentials that end with the token, and the server ends them', async () => {
    const created = await subscribe(alice.token, { name: 'siem' });
    const claims = decode(created.grant.credentials.split('\n')[1] ?? '');
    expect(claims.exp).toBe(Math.floor(new Date(created.grant.expires_at).getTime() / 1000));
    // The same kind of credentials, minted to expire in a few seconds (JWT expiry is in whole seconds,
    // and a loaded machine may take a while to connect): the server closes the connection.
    const short = await mintUserCreds(accounts.signingSeed, accounts.account.publicKey, {
      name: 'short-lived',
      publish: [],
      subscribe: [`${created.grant.inbox_prefix}.>`],
      expiresAt: new Date(Date.now() + 6_000),
    });
    const connection = await open({ ...created.grant, credentials: short });
    expect(connection.isClosed()).toBe(false);
    await eventually(
      'the server to close expired credentials',
      () => (connection.isClosed() ? true : undefined),
      20_000,
    );
  }, 60_000);

  it('feeds the reference subscriber: `audit export --nats` writes the log, and a second run adds only what is new', async () => {
    const file = join(dir, 'nats-audit.jsonl');
    expect(await audit(['export', '--nats', 'cli', '--out', file])).toEqual({ code: 0, err: '' });
    const first = logged(file);
    expect(first).toEqual(await overHttp(alice.token));
    aliceServers.push(await boot(alice, 'alice-cli'));
    const expected = await overHttp(alice.token);
    // The relay publishes after the store has the events: run again until the log holds them all.
    const second = await eventually(
      'the log to hold the new events',
      async () => {
        expect((await audit(['export', '--nats', 'cli', '--out', file])).code).toBe(0);
        const now = logged(file);
        return now.length >= expected.length ? now : undefined;
      },
      20_000,
    );
    expect(second.slice(0, first.length)).toEqual(first);
    expect(second).toEqual(expected);
    expect((await audit(['verify', file])).code).toBe(0);
    expect((await audit(['export', '--nats', 'Bad Name', '--out', file])).code).toBe(2);
  }, 60_000);

  it('resumes the reference subscriber in order when a run died holding a batch it had not kept', async () => {
    const file = join(dir, 'nats-order.jsonl');
    expect((await audit(['export', '--nats', 'order', '--out', file])).code).toBe(0);
    aliceServers.push(await boot(alice, 'alice-unkept'));
    // A run that pulled the new events and died before its log held them: nothing acknowledged.
    const grant = (await subscribe(alice.token, { name: 'order' })).grant;
    const held = await collectUntil(
      await open(grant),
      grant,
      new Set(await overHttp(alice.token).then((ids) => ids.slice(logged(file).length))),
      15_000,
      false,
    );
    expect(held.length).toBeGreaterThan(0);
    // More events after the ones that run held; the next run must not take them first.
    aliceServers.push(await boot(alice, 'alice-after'));
    const expected = await overHttp(alice.token);
    const kept = await eventually(
      'the log to hold every event',
      async () => {
        const run = await audit(['export', '--nats', 'order', '--out', file]);
        expect(run).toEqual({ code: 0, err: '' });
        const ids = logged(file);
        return ids.length >= expected.length ? ids : undefined;
      },
      20_000,
    );
    expect(kept).toEqual(expected);
  }, 60_000);

  it('deletes a subscription, and answers 404 for one that is not there', async () => {
    expect(
      (await harness.request('DELETE', '/audit/v1/subscriptions/resume', { token: alice.token })).status,
    ).toBe(204);
    expect(
      (await harness.request('DELETE', '/audit/v1/subscriptions/resume', { token: alice.token })).status,
    ).toBe(404);
    const bad = await subscribe(alice.token, { name: 'Not A Name' });
    expect(bad.status).toBe(400);
  }, 60_000);
});
