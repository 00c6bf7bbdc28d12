/**
 * An operator rebuilds the server read model from zero while the API keeps answering: the rebuild
 * streams its progress, the lists served during it never lose a server, the rebuilt model equals
 * the one it replaced, it survives a restart, and the request is refused to non-admins, for models
 * that cannot be rebuilt, and while another rebuild runs.
 */
import { readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, startHarness } from './support/api-harness.js';
import { makeActive, publicImage } from './support/simulate.js';

interface Progress {
  readonly events: number;
  readonly servers: number;
  readonly eventsPerSec: number;
  readonly done: boolean;
}

const SERVERS = 60;

describe('rebuilding the server read model', () => {
  let harness: Harness;
  let admin: string;

  beforeAll(async () => {
    harness = await startHarness({
      env: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1', NIMBUS_API_QUOTA_RAM_MB: '-1' },
    });
    admin = await harness.adminToken();
    const imageRef = await publicImage(harness, admin);
    for (let index = 0; index < SERVERS; index += 1) {
      const reply = await harness.request('POST', '/v2.1/servers', {
        token: admin,
        microversion: '2.37',
        body: { server: { name: `rebuilt-${index}`, imageRef, flavorRef: '0', networks: 'none' } },
      });
      const id = (reply.body as { server: { id: string } }).server.id;
      if (index % 3 === 0) await makeActive(harness, id, 'hv-1');
      if (index % 10 === 0) await harness.request('DELETE', `/v2.1/servers/${id}`, { token: admin });
    }
  }, 60_000);

  afterAll(async () => {
    await harness.stop();
  });

  /** Every server the admin sees, deleted ones included, with its status, in a stable order. */
  async function everyServer(): Promise<string[]> {
    const reply = await harness.request(
      'GET',
      '/v2.1/servers/detail?all_tenants=1&changes-since=2000-01-01T00:00:00Z',
      {
        token: admin,
      },
    );
    expect(reply.status).toBe(200);
    return (reply.body as { servers: { id: string; status: string }[] }).servers
      .map((server) => `${server.id} ${server.status}`)
      .sort();
  }

  function rebuild(token: string, name = 'servers'): Promise<Response> {
    return fetch(`${harness.url}/nimbus/v1/read-models/${name}/rebuild`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token },
    });
  }

  it('rebuilds from zero while lists keep answering in full, and ends equal to what it replaced', async () => {
    const before = await everyServer();
    expect(before).toHaveLength(SERVERS);
    const files = readdirSync(harness.dataDir).filter((file) => file.endsWith('.sqlite'));

    const reply = await rebuild(admin);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/x-ndjson');
    const during: string[][] = [];
    const streamed = reply.text();
    const rebuilding = { over: false };
    void streamed.finally(() => {
      rebuilding.over = true;
    });
    while (!rebuilding.over) during.push(await everyServer());
    const lines = (await streamed)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Progress);

    expect(lines.at(-1)).toMatchObject({ done: true, servers: SERVERS });
    expect(lines.at(-1)!.events).toBeGreaterThan(SERVERS);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((seen) => JSON.stringify(seen) !== JSON.stringify(before))).toEqual([]);
    expect(await everyServer()).toEqual(before);
    // The old table's file is gone; a new one serves.
    const after = readdirSync(harness.dataDir).filter((file) => file.endsWith('.sqlite'));
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(files);
  });

  it('keeps serving the rebuilt model after a restart, and folds what came after it', async () => {
    const before = await everyServer();
    await harness.restartApi();
    admin = await harness.adminToken();
    expect(await everyServer()).toEqual(before);
    const images = await harness.request('GET', '/image/v2/images?name=boot', { token: admin });
    const imageRef = (images.body as { images: { id: string }[] }).images[0]!.id;
    const reply = await harness.request('POST', '/v2.1/servers', {
      token: admin,
      microversion: '2.37',
      body: { server: { name: 'after-restart', imageRef, flavorRef: '0', networks: 'none' } },
    });
    expect(reply.status).toBe(202);
    const id = (reply.body as { server: { id: string } }).server.id;
    expect(await everyServer()).toEqual([...before, `${id} BUILD`].sort());
  });

  it('refuses a member, an unknown read model, and a second rebuild while one runs', async () => {
    const member = await harness.member('rebuild-member', 'rebuild-member');
    const [refused, unknown] = await Promise.all([rebuild(member.token), rebuild(admin, 'flavors')]);
    expect([refused.status, unknown.status]).toEqual([403, 404]);
    const first = rebuild(admin);
    const second = await rebuild(admin);
    const firstReply = await first;
    const statuses = [firstReply.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    await (firstReply.status === 200 ? firstReply : second).text();
  });
});
