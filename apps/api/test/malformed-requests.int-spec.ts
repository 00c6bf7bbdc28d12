import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type HttpResult, startHarness } from './support/api-harness.js';
import { BadInput, rng } from './support/bad-input.js';

type Json = Record<string, unknown>;

interface WriteEndpoint {
  readonly method: 'POST' | 'PUT' | 'DELETE';
  /** `{id}` is replaced by a real id or a bad one. */
  readonly path: string;
  readonly valid: () => unknown;
  readonly compute: boolean;
  readonly microversion?: string;
}

const headerSafe = (value: string): string => value.replace(/[^\x20-\x7e]/g, '?').trim() || '?';

const SEED = Number(process.env['NIMBUS_BAD_INPUT_SEED'] ?? 20_261_122);
const ROUNDS = 3000;

function isOpenStackError(result: HttpResult): boolean {
  const body = result.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1) return false;
  const found: unknown = (body as Record<string, unknown>)[keys[0]!];
  if (typeof found !== 'object' || found === null) return false;
  const inner = found as Json;
  const keystone = keys[0] === 'error';
  return (
    inner['code'] === result.status &&
    typeof inner['message'] === 'string' &&
    (!keystone || typeof inner['title'] === 'string')
  );
}

describe('malformed requests', () => {
  let harness: Harness;
  let admin: string;
  let member: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    member = (await harness.member('malformed', 'malformed-user')).token;
    const image = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'boot', visibility: 'public' },
    });
    ids['image'] = String((image.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${ids['image']}/file`, {
      token: admin,
      raw: Buffer.from('boot'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const server = await harness.request('POST', '/v2.1/servers', {
      token: admin,
      microversion: '2.37',
      body: { server: { name: 'target', imageRef: ids['image'], flavorRef: '0', networks: 'none' } },
    });
    ids['server'] = String((server.body as { server: Json }).server['id']);
    const group = await harness.request('POST', '/v2.1/os-server-groups', {
      token: admin,
      body: { server_group: { name: 'g', policies: ['affinity'] } },
    });
    ids['group'] = String((group.body as { server_group: Json }).server_group['id']);
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  const endpoints = (): WriteEndpoint[] => [
    {
      method: 'POST',
      path: '/v3/auth/tokens',
      compute: false,
      valid: () => ({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'x' } },
          },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers',
      compute: true,
      microversion: '2.37',
      valid: () => ({
        server: {
          name: 'ok',
          imageRef: ids['image'],
          flavorRef: '0',
          networks: 'none',
          metadata: { a: 'b' },
        },
      }),
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{id}',
      compute: true,
      microversion: '2.19',
      valid: () => ({ server: { name: 'renamed', description: 'd' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{id}/action',
      compute: true,
      valid: () => ({ reboot: { type: 'SOFT' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{id}/action',
      compute: true,
      valid: () => ({ 'os-getConsoleOutput': { length: 5 } }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{id}/action',
      compute: true,
      valid: () => ({ resize: { flavorRef: '1' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{id}/remote-consoles',
      compute: true,
      microversion: '2.8',
      valid: () => ({ remote_console: { protocol: 'vnc', type: 'novnc' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/flavors',
      compute: true,
      microversion: '2.55',
      valid: () => ({ flavor: { name: 'f', ram: 64, vcpus: 1, disk: 0, description: 'x' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/os-keypairs',
      compute: true,
      microversion: '2.10',
      valid: () => ({ keypair: { name: 'k', type: 'ssh' } }),
    },
    {
      method: 'POST',
      path: '/v2.1/os-server-groups',
      compute: true,
      microversion: '2.64',
      valid: () => ({ server_group: { name: 'g', policy: 'affinity', rules: {} } }),
    },
    {
      method: 'PUT',
      path: '/v2.1/os-quota-sets/{id}',
      compute: true,
      valid: () => ({ quota_set: { instances: 5, cores: 4 } }),
    },
    {
      method: 'PUT',
      path: '/v2.1/os-services/disable',
      compute: true,
      valid: () => ({ host: 'hv-1', binary: 'nova-compute' }),
    },
    {
      method: 'POST',
      path: '/image/v2/images',
      compute: false,
      valid: () => ({ name: 'i', disk_format: 'raw', tags: ['a'] }),
    },
    { method: 'PUT', path: '/image/v2/images/{id}/file', compute: false, valid: () => ({ not: 'bytes' }) },
  ];

  const deletes = (): string[] => [
    '/v2.1/servers/{id}',
    '/v2.1/flavors/{id}',
    '/v2.1/os-keypairs/{id}',
    '/v2.1/os-server-groups/{id}',
    '/image/v2/images/{id}',
  ];

  const realId = (path: string): string => {
    if (path.startsWith('/image')) return ids['image']!;
    if (path.includes('os-server-groups')) return ids['group']!;
    if (path.includes('os-quota-sets')) return 'some-project';
    return ids['server']!;
  };

  describe('requests Nova accepts, shaped as scripts and SDKs send them', () => {
    async function bootOne(name: string): Promise<string> {
      const reply = await harness.request('POST', '/v2.1/servers', {
        token: admin,
        microversion: '2.37',
        body: { server: { name, imageRef: ids['image'], flavorRef: '0', networks: 'none' } },
      });
      expect(reply.status).toBe(202);
      return String((reply.body as { server: Json }).server['id']);
    }

    it('deletes a server asked with a JSON Content-Type and no body', async () => {
      const id = await bootOne('json-delete');
      const reply = await harness.request('DELETE', `/v2.1/servers/${id}`, {
        token: admin,
        raw: '',
        headers: { 'Content-Type': 'application/json' },
      });
      expect(reply.status).toBe(204);
    });

    it('lists with a JSON Content-Type and no body; a trailing slash routes nowhere, as in Nova and Glance', async () => {
      const typed = await harness.request('GET', '/v2.1/servers', {
        token: admin,
        headers: { 'Content-Type': 'application/json' },
      });
      expect(typed.status).toBe(200);
      for (const path of ['/v2.1/servers/', '/v2.1/flavors/detail/', '/image/v2/images/']) {
        expect((await harness.request('GET', path, { token: admin })).status).toBe(404);
      }
      // The version document and Keystone take either.
      expect((await harness.request('GET', '/v2.1/', { token: admin })).status).toBe(200);
      expect((await harness.request('GET', '/v3/projects/', { token: admin })).status).toBe(200);
    });

    it('reads a body sent as text/plain, or with no Content-Type, as JSON; a form is a 415', async () => {
      const body = (name: string): string => JSON.stringify({ keypair: { name, type: 'ssh' } });
      const plain = await harness.request('POST', '/v2.1/os-keypairs', {
        token: admin,
        microversion: '2.10',
        raw: body('plain-key'),
        headers: { 'Content-Type': 'text/plain' },
      });
      // A Buffer body goes without a Content-Type header.
      const untyped = await harness.request('POST', '/v2.1/os-keypairs', {
        token: admin,
        microversion: '2.10',
        raw: Buffer.from(body('untyped-key')),
      });
      expect([plain.status, untyped.status]).toEqual([201, 201]);
      const image = await harness.request('POST', '/image/v2/images', {
        token: admin,
        raw: JSON.stringify({ name: 'plain-image' }),
        headers: { 'Content-Type': 'text/plain' },
      });
      expect(image.status).toBe(201);
      const before = await harness.headPosition();
      const form = await harness.request('POST', '/v2.1/os-keypairs', {
        token: admin,
        raw: 'keypair=form-key',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      expect(await harness.headPosition()).toBe(before);
    });

    it('answers HEAD and OPTIONS as Nova, Glance and Keystone do', async () => {
      const head = (path: string) => harness.request('HEAD', path, { token: admin });
      // Nova routes HEAD to its version documents only.
      expect((await head('/v2.1/servers')).status).toBe(404);
      expect((await head(`/v2.1/servers/${ids['server']}`)).status).toBe(404);
      expect((await head('/v2.1/')).status).toBe(200);
      // Glance: 405, naming the methods the path takes.
      const images = await head('/image/v2/images');
      expect([images.status, images.headers.get('allow')]).toEqual([405, 'GET, POST']);
      // Keystone serves HEAD from GET.
      expect((await head('/v3/projects')).status).toBe(200);
      const options = await harness.request('OPTIONS', '/v2.1/servers', { token: admin });
      expect([options.status, options.text]).toEqual([200, '']);
    });

    it('takes a body whose Content-Type names its charset', async () => {
      const reply = await harness.request('POST', '/v2.1/os-keypairs', {
        token: admin,
        microversion: '2.10',
        raw: JSON.stringify({ keypair: { name: 'charset-key', type: 'ssh' } }),
        headers: { 'Content-Type': 'application/json; charset=UTF-8' },
      });
      // Created: 201 from 2.2 on.
      expect(reply.status).toBe(201);
    });

    it('answers JSON to the Accept headers clients send', async () => {
      const accepts = ['application/json', '*/*', 'application/json;q=0.9, */*;q=0.1'];
      const replies = await Promise.all(
        accepts.map((accept) =>
          harness.request('GET', '/v2.1/flavors', { token: admin, headers: { Accept: accept } }),
        ),
      );
      expect(replies.map((reply) => [reply.status, Array.isArray((reply.body as Json)['flavors'])])).toEqual(
        accepts.map(() => [200, true]),
      );
    });

    it('still refuses an action with an empty body', async () => {
      const reply = await harness.request('POST', `/v2.1/servers/${ids['server']}/action`, {
        token: admin,
        raw: '',
        headers: { 'Content-Type': 'application/json' },
      });
      expect(reply.status).toBe(400);
    });
  });

  it(`answers ${ROUNDS} generated bad requests with 4xx OpenStack errors and appends nothing (seed ${SEED})`, async () => {
    const gen = new BadInput(rng(SEED));
    const before = await harness.headPosition();
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const deleting = gen.chance(0.12);
      const endpoint = gen.pick(endpoints());
      const template = deleting ? gen.pick(deletes()) : endpoint.path;
      const method = deleting ? 'DELETE' : endpoint.method;
      const compute = template.startsWith('/v2.1');
      const headers: Record<string, string> = {};
      let token = gen.chance(0.8) ? admin : member;
      let raw: string | Buffer | undefined;
      // DELETE with a real id is allowed only with a request broken otherwise (header or token).
      let useRealId = template.includes('{id}') && gen.chance(deleting ? 0.3 : 0.5);
      const kind = gen.int(8);
      switch (deleting ? 7 : kind) {
        case 0:
          raw = JSON.stringify(gen.breakBody(endpoint.valid()));
          headers['Content-Type'] = 'application/json';
          break;
        case 1: {
          // Random JSON; an object gets a member no schema accepts (image properties may be any string).
          const value = gen.json(4);
          raw = JSON.stringify(
            typeof value === 'object' && value !== null && !Array.isArray(value)
              ? { ...value, zz_unknown: { deep: [] } }
              : value,
          );
          headers['Content-Type'] = 'application/json';
          break;
        }
        case 2:
          raw = gen.brokenJsonText(endpoint.valid());
          headers['Content-Type'] = 'application/json';
          break;
        case 3:
          raw = JSON.stringify(endpoint.valid());
          // A media type Nova refuses (it reads text/plain as JSON, as it reads no Content-Type).
          headers['Content-Type'] = gen.pick([
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'image/png',
          ]);
          break;
        case 4:
          raw = JSON.stringify(endpoint.valid());
          headers['Content-Type'] = 'application/json';
          token = gen.pick(['', 'nmb1.forged.token', `nmb1.${'A'.repeat(3000)}`, 'gAAAAABfake']);
          break;
        case 5:
          raw = JSON.stringify({ server: { name: 'x'.repeat(120_000) }, padding: 'y'.repeat(10) });
          headers['Content-Type'] = 'application/json';
          break;
        case 6:
          raw = JSON.stringify(gen.breakBody(endpoint.valid()));
          headers['Content-Type'] = 'application/json';
          useRealId = false;
          break;
        default:
          if (compute && (gen.chance(0.5) || useRealId)) headers['OpenStack-API-Version'] = gen.badVersion();
          else if (useRealId) token = 'nmb1.forged.token';
          if (!deleting) {
            raw = JSON.stringify(gen.breakBody(endpoint.valid()));
            headers['Content-Type'] = 'application/json';
          }
      }
      if (compute && !headers['OpenStack-API-Version'] && endpoint.microversion && gen.chance(0.7)) {
        headers['OpenStack-API-Version'] = `compute ${endpoint.microversion}`;
      }
      const path = template.replace('{id}', useRealId ? realId(template) : gen.badId());
      // HTTP header values are printable ASCII: a client cannot send anything else.
      for (const [name, value] of Object.entries(headers)) headers[name] = headerSafe(value);
      token = token === '' ? '' : headerSafe(token);
      let result: HttpResult;
      try {
        result = await harness.request(method, path, {
          ...(token === '' ? {} : { token }),
          headers,
          ...(raw === undefined ? {} : { raw }),
        });
      } catch (error) {
        failures.push(`${method} ${path}: request failed: ${(error as Error).message}`);
        continue;
      }
      const problem =
        result.status >= 500
          ? 'a 5xx'
          : result.status < 400
            ? `an unexpected ${result.status}`
            : !isOpenStackError(result)
              ? `a body not in the OpenStack shape: ${result.text.slice(0, 200)}`
              : !result.headers.get('x-openstack-request-id')
                ? 'no request id'
                : null;
      if (problem)
        failures.push(
          `round ${round}: ${method} ${path.slice(0, 80)} (${JSON.stringify(headers)}) gave ${problem}`,
        );
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await harness.headPosition()).toBe(before);
  }, 60_000);
});
