import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { GapDetector, parsePosition, type FeedPosition } from '#libs/audit';
import { streamFor } from '#libs/contracts';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { openLineFeed } from './support/line-feed.js';
import { eventually } from '../../../test/support/eventually.js';
import { makeActive, registerHost, publicImage } from './support/simulate.js';

type Json = Record<string, unknown>;

const positionOf = (event: Json): FeedPosition => parsePosition(event['position'] as string)!;
const previousOf = (event: Json): FeedPosition | null =>
  event['previousposition'] === undefined ? null : parsePosition(event['previousposition'] as string);

describe('the audit feed over HTTP', () => {
  let harness: Harness;
  let admin: string;
  let alice: Member;
  let bob: Member;
  let imageId: string;
  const aliceServers: string[] = [];
  const bobServers: string[] = [];

  const boot = async (member: Member, name: string): Promise<string> => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: member.token,
      microversion: '2.37',
      body: { server: { name, imageRef: imageId, flavorRef: '0', networks: 'none' } },
    });
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    return String((created.body as { server: Json }).server['id']);
  };

  /** Everything stored so far, as the feed sends it to this token (the feed ends at the store's end). */
  const exportFeed = async (token: string, query = ''): Promise<Json[]> => {
    const result = await harness.request('GET', `/audit/v1/events?follow=false${query}`, { token });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toContain('application/x-ndjson');
    return result.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Json);
  };

  /** The ids of an instance's events, in order, read from the store itself. */
  const storedIds = async (instanceId: string): Promise<string[]> => {
    const ids: string[] = [];
    for await (const event of harness.store.read(streamFor('instance', instanceId)))
      ids.push(event.metadata.eventId);
    return ids;
  };

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    alice = await harness.member('audit-a', 'audit-alice');
    bob = await harness.member('audit-b', 'audit-bob');
    imageId = await publicImage(harness, admin);
    await registerHost(harness, 'hv-1');
    for (let n = 0; n < 3; n += 1) {
      aliceServers.push(await boot(alice, `a-${n}`));
      bobServers.push(await boot(bob, `b-${n}`));
    }
    for (const id of [...aliceServers, ...bobServers]) await makeActive(harness, id, 'hv-1');
  }, 60_000);

  afterAll(async () => {
    await harness.stop();
  });

  it("gives a project's reader exactly its project's events, in store order, and another project's none", async () => {
    const a = await exportFeed(alice.token);
    const b = await exportFeed(bob.token);
    expect(a.every((event) => event['nimbusproject'] === alice.projectId)).toBe(true);
    expect(b.every((event) => event['nimbusproject'] === bob.projectId)).toBe(true);
    const aIds = a.map((event) => event['id']);
    for (const id of aliceServers) {
      const expected = await storedIds(id);
      expect(aIds.filter((event) => expected.includes(String(event)))).toEqual(expected);
    }
    for (const id of bobServers) {
      expect(a.some((event) => event['subject'] === streamFor('instance', id))).toBe(false);
    }
    const bIds = new Set(b.map((event) => event['id']));
    expect(aIds.some((id) => bIds.has(id))).toBe(false);
    // Tenants see their servers' lives but not the hosts they run on.
    const started = a.find((event) => event['type'] === 'org.nimbus.DomainStarted.v1')!;
    expect(started['data']).not.toHaveProperty('host');
    expect(started).toMatchObject({ specversion: '1.0', source: '/nimbus/instance', actorkind: 'service' });
    // Each event links to the one before it in this feed.
    const detector = new GapDetector(null);
    for (const event of a)
      expect(detector.arrive(positionOf(event), previousOf(event))).toEqual({ kind: 'next' });
  });

  it('gives an admin every project, with hosts, and never a password hash', async () => {
    const all = await exportFeed(admin, '&all_projects=true');
    const projects = new Set(all.map((event) => event['nimbusproject']));
    expect(projects).toContain(alice.projectId);
    expect(projects).toContain(bob.projectId);
    const users = all.filter((event) => event['type'] === 'org.nimbus.UserCreated.v1');
    expect(users.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(all)).not.toMatch(/scrypt|passwordHash/);
    const started = all.find((event) => event['type'] === 'org.nimbus.DomainStarted.v1')!;
    expect(started['data']).toHaveProperty('host', 'hv-1');
    const one = await exportFeed(admin, `&project_id=${bob.projectId}`);
    expect(one.length).toBeGreaterThan(0);
    expect(one.every((event) => event['nimbusproject'] === bob.projectId)).toBe(true);
  });

  it("refuses a reader another project's feed, all projects, or a start it cannot read", async () => {
    const other = await harness.request('GET', `/audit/v1/events?project_id=${bob.projectId}`, {
      token: alice.token,
    });
    expect(other.status).toBe(403);
    expect(other.text).toContain('nimbus:audit:events');
    const all = await harness.request('GET', '/audit/v1/events?all_projects=true', { token: alice.token });
    expect(all.status).toBe(403);
    const bad = await harness.request('GET', '/audit/v1/events?since=yesterday', { token: alice.token });
    expect(bad.status).toBe(400);
    const unknown = await harness.request('GET', '/audit/v1/events?colour=blue', { token: alice.token });
    expect(unknown.status).toBe(400);
    const anonymous = await harness.request('GET', '/audit/v1/events');
    expect(anonymous.status).toBe(401);
  });

  it('resumes after the last position with no gap and no duplicate, from history into live events', async () => {
    const history = await exportFeed(alice.token);
    const cut = history[history.length - 3]!;
    const feed = await openLineFeed(
      `${harness.url}/audit/v1/events?since=${String(cut['position'])}`,
      alice.token,
    );
    expect(feed.status).toBe(200);
    await feed.waitFor(2, 'the history after the cut');
    // Live: a boot after the feed opened arrives on the same call.
    const live = await boot(alice, 'a-live');
    await makeActive(harness, live, 'hv-1');
    await boot(bob, 'b-live');
    const expectedLive = await storedIds(live);
    const received = await feed.waitFor(2 + expectedLive.length, 'the live events');
    feed.cut();
    await feed.ended;
    // Cut mid-flight: more happens while nobody listens, then the subscriber resumes after its last event.
    const later = await boot(alice, 'a-later');
    const last = received[received.length - 1]!;
    const rest = await exportFeed(alice.token, `&since=${String(last['position'])}`);
    const detector = new GapDetector(positionOf(cut));
    for (const event of [...received, ...rest])
      expect(detector.arrive(positionOf(event), previousOf(event))).toEqual({ kind: 'next' });
    const ids = [...history.slice(0, -2), ...received, ...rest].map((event) => event['id']);
    expect(new Set(ids).size).toBe(ids.length);
    const everything = (await exportFeed(alice.token)).map((event) => event['id']);
    expect(ids).toEqual(everything);
    expect(rest.some((event) => event['subject'] === streamFor('instance', later))).toBe(true);
  }, 30_000);

  it('starts at a time with the events from then on, linked to the one before', async () => {
    const history = await exportFeed(alice.token);
    const pivot = history[history.length - 4]!;
    const since = await exportFeed(alice.token, `&since=${encodeURIComponent(String(pivot['time']))}`);
    expect(since.length).toBeGreaterThanOrEqual(4);
    const first = since[0]!;
    const index = history.findIndex((event) => event['id'] === first['id']);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(since.map((event) => event['id'])).toEqual(history.slice(index).map((event) => event['id']));
    expect(first['previousposition']).toBe(index === 0 ? undefined : history[index - 1]!['position']);
  });

  it('ends a feed at once when its token is revoked, and only that one', async () => {
    const token = await harness.login(alice.name, alice.password, 'audit-a');
    const revokedFeed = await openLineFeed(`${harness.url}/audit/v1/events`, token);
    const otherFeed = await openLineFeed(`${harness.url}/audit/v1/events`, alice.token);
    const history = (await otherFeed.waitFor(1, 'the history')).length;
    await revokedFeed.waitFor(1, 'the history');
    const revoked = await harness.request('DELETE', '/v3/auth/tokens', {
      token,
      headers: { 'X-Subject-Token': token },
    });
    expect(revoked.status).toBe(204);
    await eventually('the revoked feed to end', () => (revokedFeed.isEnded() ? true : undefined), 5_000);
    expect((await harness.request('GET', '/audit/v1/events?follow=false', { token })).status).toBe(401);
    // The project's other token still follows: a new event of Alice's arrives on it.
    await makeActive(harness, aliceServers[1]!, 'hv-1').catch(() => undefined);
    aliceServers.push(await boot(alice, 'after-revocation'));
    await otherFeed.waitFor(history + 1, 'an event after the revocation');
    expect(otherFeed.isEnded()).toBe(false);
    otherFeed.cut();
  }, 30_000);

  it('ends the feed when the token expires', async () => {
    const feed = await openLineFeed(`${harness.url}/audit/v1/events`, alice.token);
    await feed.waitFor(1, 'the history');
    harness.advanceClock(2 * 24 * 3600 * 1000);
    await boot(bob, 'after-expiry').catch(() => undefined);
    await makeActive(harness, aliceServers[0]!, 'hv-1').catch(() => undefined);
    await feed.ended;
    expect(feed.isEnded()).toBe(true);
  }, 30_000);
});
