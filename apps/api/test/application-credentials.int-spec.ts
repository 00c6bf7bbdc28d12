/**
 * Application credentials, as automation uses them: a user makes one on its project, authenticates with
 * its id and secret (or its name and the user) and gets a token scoped to that project with the
 * credential's roles; the token and the credential stop at once when the credential is deleted or
 * expires, or when the user loses a role the credential carries. Only the owner makes them; a restricted
 * credential's token may not make more; the secret is shown once and never stored.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { streamFor } from '#libs/contracts';

import { type Harness, type Member, startHarness } from './support/api-harness.js';

type Json = Record<string, unknown>;

describe('application credentials (Keystone v3)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  const create = (owner: Member, body: Json, token = owner.token) =>
    harness.request('POST', `/v3/users/${owner.userId}/application_credentials`, {
      token,
      body: { application_credential: body },
    });

  async function authenticate(identity: Json): Promise<{ status: number; token: string | null; body: Json }> {
    const result = await harness.request('POST', '/v3/auth/tokens?nocatalog', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: identity } } },
    });
    return { status: result.status, token: result.headers.get('x-subject-token'), body: result.body as Json };
  }

  const servers = async (token: string): Promise<number> =>
    (await harness.request('GET', '/v2.1/servers', { token })).status;

  it('authenticates with a new credential until it is deleted, and shows its secret only once', async () => {
    const ann = await harness.member('appcred-a', 'appcred-ann');
    const made = await create(ann, { name: 'deployer', description: 'nightly' });
    expect(made.status).toBe(201);
    const credential = (made.body as { application_credential: Json }).application_credential;
    expect(credential).toMatchObject({
      name: 'deployer',
      description: 'nightly',
      user_id: ann.userId,
      project_id: ann.projectId,
      unrestricted: false,
      expires_at: null,
      roles: [expect.objectContaining({ name: 'member' }), expect.objectContaining({ name: 'reader' })],
    });
    const { id, secret } = credential as { id: string; secret: string };
    expect(secret.length).toBeGreaterThanOrEqual(64);

    const stored: string[] = [];
    for await (const event of harness.store.read(streamFor('user', ann.userId)))
      stored.push(JSON.stringify(event.data));
    expect(stored.some((data) => data.includes('"secretHash":"scrypt$'))).toBe(true);
    expect(stored.join('\n')).not.toContain(secret);

    const listed = await harness.request('GET', `/v3/users/${ann.userId}/application_credentials`, {
      token: ann.token,
    });
    expect((listed.body as { application_credentials: Json[] }).application_credentials).toEqual([
      expect.objectContaining({ id, name: 'deployer' }),
    ]);
    expect(listed.text).not.toContain(secret);

    const byId = await authenticate({ id, secret });
    expect(byId.status).toBe(201);
    expect((byId.body as { token: Json }).token).toMatchObject({
      methods: ['application_credential'],
      project: { id: ann.projectId },
      user: { id: ann.userId },
      application_credential: { id, name: 'deployer', restricted: true },
    });
    const byName = await authenticate({
      name: 'deployer',
      secret,
      user: { name: 'appcred-ann', domain: { name: 'Default' } },
    });
    expect(byName.status).toBe(201);
    expect(await servers(byId.token!)).toBe(200);

    expect((await authenticate({ id, secret: `${secret}x` })).status).toBe(401);
    expect((await authenticate({ id: 'constructor', secret })).status).toBe(401);

    // A restricted credential's token may not make another, nor delete its own.
    expect((await create(ann, { name: 'second' }, byId.token!)).status).toBe(403);
    const remove = (token: string) =>
      harness.request('DELETE', `/v3/users/${ann.userId}/application_credentials/${id}`, { token });
    expect((await remove(byId.token!)).status).toBe(403);

    expect((await remove(ann.token)).status).toBe(204);
    expect(await servers(byId.token!)).toBe(401);
    expect(await servers(byName.token!)).toBe(401);
    expect((await authenticate({ id, secret })).status).toBe(401);
    expect((await remove(ann.token)).status).toBe(404);
    expect(await servers(ann.token)).toBe(200);
  });

  it('carries only the roles it was given, and ends when the user loses one of them', async () => {
    const admin = await harness.adminToken();
    const bea = await harness.member('appcred-b', 'appcred-bea');
    const asReader = await create(bea, { name: 'read-only', roles: [{ name: 'reader' }] });
    expect(asReader.status).toBe(201);
    const { id, secret } = (asReader.body as { application_credential: { id: string; secret: string } })
      .application_credential;
    const { token } = await authenticate({ id, secret });
    expect(await servers(token!)).toBe(200);
    const boot = await harness.request('POST', '/v2.1/servers', {
      token: token!,
      body: { server: { name: 'x', imageRef: 'none', flavorRef: '1' } },
    });
    expect(boot.status).toBe(403);

    // Roles the token does not hold cannot be given.
    expect((await create(bea, { name: 'grab', roles: [{ name: 'admin' }] })).status).toBe(404);
    expect((await create(bea, { name: 'nosuch', roles: [{ name: 'nosuch' }] })).status).toBe(404);

    const roles = await harness.request('GET', '/v3/roles?name=member', { token: admin });
    const [member] = (roles.body as { roles: { id: string }[] }).roles;
    const grant = `/v3/projects/${bea.projectId}/users/${bea.userId}/roles/${member!.id}`;
    expect((await harness.request('DELETE', grant, { token: admin })).status).toBe(204);
    expect(await servers(token!)).toBe(401);
    expect((await authenticate({ id, secret })).status).toBe(401);
  });

  it('expires, keeps names unique per user, and is the business of its owner and admins only', async () => {
    const cy = await harness.member('appcred-c', 'appcred-cy');
    const dee = await harness.member('appcred-d', 'appcred-dee');
    const soon = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '');
    const made = await create(cy, { name: 'hourly', expires_at: soon, unrestricted: true });
    expect(made.status).toBe(201);
    const { id, secret } = (made.body as { application_credential: { id: string; secret: string } })
      .application_credential;
    expect((await create(cy, { name: 'hourly' })).status).toBe(409);

    const path = `/v3/users/${cy.userId}/application_credentials`;
    expect((await harness.request('GET', path, { token: dee.token })).status).toBe(403);
    expect((await harness.request('GET', `${path}/${id}`, { token: dee.token })).status).toBe(403);
    expect((await harness.request('DELETE', `${path}/${id}`, { token: dee.token })).status).toBe(403);
    expect((await create(cy, { name: 'theirs' }, dee.token)).status).toBe(403);
    const admin = await harness.adminToken();
    expect((await harness.request('GET', `${path}/${id}`, { token: admin })).status).toBe(200);

    const { token } = await authenticate({ id, secret });
    // An unrestricted credential's token may make another.
    expect((await create(cy, { name: 'child' }, token!)).status).toBe(201);
    const body = (await harness.request('GET', '/v3/auth/tokens', {
      token: token!,
      headers: { 'x-subject-token': token! },
    })) as { body: { token: { expires_at: string } } };
    expect(Date.parse(body.body.token.expires_at)).toBeLessThanOrEqual(Date.parse(`${soon}Z`));

    harness.advanceClock(3_600_000);
    expect(await servers(token!)).toBe(401);
    expect((await authenticate({ id, secret })).status).toBe(401);
  });

  it('refuses malformed requests with a 400 and writes nothing', async () => {
    const eli = await harness.member('appcred-e', 'appcred-eli');
    const before = await harness.headPosition();
    for (const body of [
      {},
      { name: '' },
      { name: 'x', access_rules: [{ path: '/v2.1/servers', method: 'GET', service: 'compute' }] },
      { name: 'x', expires_at: 'tomorrow' },
      { name: 'x', expires_at: '2001-01-01T00:00:00' },
      { name: 'x', roles: [{}] },
      { name: 'x', unknown: 1 },
    ])
      expect((await create(eli, body)).status).toBe(400);
    expect((await authenticate({ secret: 'x' })).status).toBe(400);
    const scoped = await harness.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: 'x', secret: 'y' } },
          scope: { project: { id: eli.projectId } },
        },
      },
    });
    expect(scoped.status).toBe(401);
    expect(await harness.headPosition()).toBe(before);
  });
});
