import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { parsePosition } from '#libs/audit';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { type LineFeed, openLineFeed } from './support/line-feed.js';
import { makeActive, registerHost, publicImage } from './support/simulate.js';
import { eventually } from '../../../test/support/eventually.js';

type Json = Record<string, unknown>;

const serverOf = (line: Json): Json => (line['object'] as { server: Json }).server;
const commit = (line: Json): bigint => parsePosition(line['resourceVersion'] as string)!.commit;

/** Each server's statuses in the order the watch reported them. */
function statusesBy(lines: readonly Json[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const line of lines) {
    if (line['type'] === 'BOOKMARK') continue;
    const server = serverOf(line);
    const id = server['id'] as string;
    seen.set(id, [...(seen.get(id) ?? []), server['status'] as string]);
  }
  return seen;
}

describe('GET /v2.1/servers/watch', () => {
  let harness: Harness;
  let alice: Member;
  let bob: Member;
  let imageId: string;

  const boot = async (member: Member, name: string): Promise<string> => {
    const created = await harness.request('POST', '/v2.1/servers', {
      token: member.token,
      microversion: '2.37',
      body: { server: { name, imageRef: imageId, flavorRef: '0', networks: 'none' } },
    });
    if (created.status !== 202) throw new Error(`boot failed: ${created.status} ${created.text}`);
    return String((created.body as { server: Json }).server['id']);
  };

  const watch = (token: string, query = ''): Promise<LineFeed> =>
    openLineFeed(`${harness.url}/v2.1/servers/watch${query}`, token);

  beforeAll(async () => {
    harness = await startHarness();
    const admin = await harness.adminToken();
    alice = await harness.member('watch-a', 'watch-alice');
    bob = await harness.member('watch-b', 'watch-bob');
    imageId = await publicImage(harness, admin);
    await registerHost(harness, 'hv-1');
    const existing = await boot(alice, 'existing');
    await makeActive(harness, existing, 'hv-1');
  }, 60_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('lists the servers with a version, then sees every server of a burst go BUILD to ACTIVE, in order, and no other project', async () => {
    const feed = await watch(alice.token);
    expect(feed.status).toBe(200);
    const listed = await feed.waitFor(2, 'the list and its bookmark');
    expect(listed[0]).toMatchObject({ type: 'ADDED' });
    expect(serverOf(listed[0]!)).toMatchObject({ name: 'existing', status: 'ACTIVE' });
    expect(listed[1]).toMatchObject({ type: 'BOOKMARK', resourceVersion: listed[0]!['resourceVersion'] });

    const burst = await Promise.all([0, 1, 2, 3, 4].map((n) => boot(alice, `burst-${n}`)));
    const others = await Promise.all([0, 1].map((n) => boot(bob, `other-${n}`)));
    await Promise.all([...burst, ...others].map((id) => makeActive(harness, id, 'hv-1')));

    const lines = await (async () => {
      for (;;) {
        const statuses = statusesBy(feed.lines.slice(2));
        if (burst.every((id) => statuses.get(id)?.at(-1) === 'ACTIVE')) return feed.lines.slice(2);
        await feed.waitFor(feed.lines.length + 1, 'every server of the burst ACTIVE');
      }
    })();
    feed.cut();
    const statuses = statusesBy(lines);
    for (const id of burst) {
      const seen = statuses.get(id)!;
      expect(seen[0]).toBe('BUILD');
      expect(seen.at(-1)).toBe('ACTIVE');
      expect(seen.indexOf('ACTIVE')).toBe(seen.length - 1);
    }
    const added = lines.filter((line) => line['type'] === 'ADDED').map((line) => serverOf(line)['id']);
    expect([...added].sort()).toEqual([...burst].sort());
    for (const id of others) expect(statuses.has(id)).toBe(false);
    const versions = lines.map(commit);
    expect(versions).toEqual([...versions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  }, 30_000);

  it('resumes from the last version it sent after the connection is cut: nothing missed, nothing twice', async () => {
    const first = await watch(alice.token);
    const listEnd = await eventually('the list and its bookmark', () => {
      const index = first.lines.findIndex((line) => line['type'] === 'BOOKMARK');
      return index >= 0 ? index : undefined;
    });
    const burst = await Promise.all([0, 1, 2].map((n) => boot(alice, `resume-${n}`)));
    // Cut once the first boot shows up, while the rest of the burst is still coming.
    await first.waitFor(listEnd + 2, 'the first changes');
    first.cut();
    await first.ended;
    const before = first.lines.filter(
      (line) => line['type'] !== 'BOOKMARK' && burst.includes(serverOf(line)['id'] as string),
    );
    const last = first.lines.at(-1)!;
    await Promise.all(burst.map((id) => makeActive(harness, id, 'hv-1')));

    const second = await watch(alice.token, `?resourceVersion=${last['resourceVersion'] as string}`);
    expect(second.status).toBe(200);
    for (;;) {
      const statuses = statusesBy([...before, ...second.lines]);
      if (burst.every((id) => statuses.get(id)?.at(-1) === 'ACTIVE')) break;
      await second.waitFor(second.lines.length + 1, 'the rest of the burst after resuming');
    }
    second.cut();
    const changes = [...before, ...second.lines.filter((line) => line['type'] !== 'BOOKMARK')];
    const versions = changes.map((line) => line['resourceVersion']);
    expect(new Set(versions).size).toBe(versions.length);
    expect(commit(second.lines[0]!)).toBeGreaterThan(commit(last));
    const statuses = statusesBy(changes);
    for (const id of burst) {
      expect(statuses.get(id)![0]).toBe('BUILD');
      expect(statuses.get(id)!.at(-1)).toBe('ACTIVE');
    }
  }, 30_000);

  it("refuses another project's servers to a member, a version it never sent, and keeps polling as it was", async () => {
    expect(
      (await harness.request('GET', '/v2.1/servers/watch?all_tenants=1', { token: alice.token })).status,
    ).toBe(403);
    expect(
      (
        await harness.request('GET', `/v2.1/servers/watch?project_id=${bob.projectId}`, {
          token: alice.token,
        })
      ).status,
    ).toBe(403);
    expect(
      (await harness.request('GET', '/v2.1/servers/watch?resourceVersion=soon', { token: alice.token }))
        .status,
    ).toBe(400);
    expect(
      (await harness.request('GET', '/v2.1/servers/watch?resourceVersion=99999999', { token: alice.token }))
        .status,
    ).toBe(400);
    const list = await harness.request('GET', '/v2.1/servers', { token: alice.token });
    expect(list.status).toBe(200);
    expect((list.body as { servers: unknown[] }).servers.length).toBeGreaterThan(5);
  });

  it('ends a watch at once when its token is revoked, and keeps the others', async () => {
    const token = await harness.login(alice.name, alice.password, 'watch-a');
    const revokedWatch = await watch(token);
    const otherWatch = await watch(alice.token);
    await revokedWatch.waitFor(1, 'the list');
    const listed = (await otherWatch.waitFor(1, 'the list')).length;
    const revoked = await harness.request('DELETE', '/v3/auth/tokens', {
      token,
      headers: { 'X-Subject-Token': token },
    });
    expect(revoked.status).toBe(204);
    await eventually('the revoked watch to end', () => (revokedWatch.isEnded() ? true : undefined), 5_000);
    expect((await harness.request('GET', '/v2.1/servers/watch', { token })).status).toBe(401);
    await boot(alice, 'after-revocation');
    await otherWatch.waitFor(listed + 1, 'the server booted after the revocation');
    expect(otherWatch.isEnded()).toBe(false);
    otherWatch.cut();
  }, 30_000);

  it('answers 410 Gone for a version older than the window', async () => {
    const feed = await watch(alice.token);
    const [first] = await feed.waitFor(1, 'the list');
    feed.cut();
    harness.advanceClock(2 * 3600 * 1000);
    const token = await harness.login(alice.name, alice.password, 'watch-a');
    const gone = await harness.request(
      'GET',
      `/v2.1/servers/watch?resourceVersion=${first!['resourceVersion'] as string}`,
      {
        token,
      },
    );
    expect(gone.status).toBe(410);
    expect(gone.text).toContain('too old resource version');
  });
});
