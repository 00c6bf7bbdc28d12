import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ADMIN_PASSWORD, type Harness, startHarness } from './support/api-harness.js';

const passwordAuth = (user: Record<string, unknown>, scope?: Record<string, unknown>) => ({
  auth: {
    identity: { methods: ['password'], password: { user } },
    ...(scope ? { scope: { project: scope } } : {}),
  },
});

describe('identity (Keystone v3 token subset)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('discovers v3 at / and /v3, with a request id on every answer', async () => {
    const root = await harness.request('GET', '/');
    expect(root.status).toBe(200);
    expect(root.headers.get('x-openstack-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
    const ids = (root.body as { versions: { id: string }[] }).versions.map((version) => version.id);
    expect(ids).toEqual(['v2.0', 'v2.1', 'v3.14']);
    const v3 = await harness.request('GET', '/v3');
    expect(v3.body).toMatchObject({
      version: { id: 'v3.14', status: 'stable', links: [{ rel: 'self', href: `${harness.url}/v3/` }] },
    });
  });

  it('issues a project-scoped token by user and project name, in the X-Subject-Token header', async () => {
    const issued = await harness.request('POST', '/v3/auth/tokens', {
      body: passwordAuth(
        { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD },
        { name: 'admin', domain: { name: 'Default' } },
      ),
    });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('x-subject-token')).toMatch(/^nmb1\./);
    const { token } = issued.body as { token: Record<string, unknown> };
    expect(token).toMatchObject({
      methods: ['password'],
      user: { name: 'admin', domain: { id: 'default', name: 'Default' }, password_expires_at: null },
      project: { name: 'admin', domain: { id: 'default', name: 'Default' } },
      is_domain: false,
    });
    expect((token['roles'] as { name: string }[]).map((role) => role.name)).toEqual([
      'member',
      'reader',
      'admin',
    ]);
    expect(token['expires_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    expect(Date.parse(String(token['expires_at'])) - Date.parse(String(token['issued_at']))).toBe(3600_000);
    expect(token['audit_ids']).toEqual([expect.stringMatching(/^[A-Za-z0-9_-]{22}$/)]);
    const catalog = token['catalog'] as {
      type: string;
      endpoints: { interface: string; url: string; region: string }[];
    }[];
    expect(catalog.map((entry) => entry.type)).toEqual(['compute', 'image', 'network', 'identity']);
    for (const entry of catalog) {
      expect(entry.endpoints.map((endpoint) => endpoint.interface)).toEqual(['public', 'internal', 'admin']);
      expect(entry.endpoints.every((endpoint) => endpoint.region === 'RegionOne')).toBe(true);
    }
    expect(catalog[0]?.endpoints[0]?.url).toBe(`${harness.url}/v2.1`);
    expect(catalog[1]?.endpoints[0]?.url).toBe(`${harness.url}/image`);
  });

  it('accepts the domain by id and the user and project by id', async () => {
    const byName = await harness.request('POST', '/v3/auth/tokens', {
      body: passwordAuth(
        { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD },
        { name: 'admin', domain: { id: 'default' } },
      ),
    });
    const { token } = byName.body as { token: { user: { id: string }; project: { id: string } } };
    const byId = await harness.request('POST', '/v3/auth/tokens', {
      body: passwordAuth({ id: token.user.id, password: ADMIN_PASSWORD }, { id: token.project.id }),
    });
    expect(byId.status).toBe(201);
  });

  it("refuses a wrong password and an unknown project with Keystone's 401 body", async () => {
    for (const body of [
      passwordAuth(
        { name: 'admin', domain: { name: 'Default' }, password: 'wrong' },
        { name: 'admin', domain: { name: 'Default' } },
      ),
      passwordAuth(
        { name: 'nobody', domain: { name: 'Default' }, password: 'x' },
        { name: 'admin', domain: { name: 'Default' } },
      ),
      passwordAuth(
        { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD },
        { name: 'nope', domain: { name: 'Default' } },
      ),
    ]) {
      const refused = await harness.request('POST', '/v3/auth/tokens', { body });
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({
        error: {
          code: 401,
          message: 'The request you have made requires authentication.',
          title: 'Unauthorized',
        },
      });
      expect(refused.headers.get('x-subject-token')).toBeNull();
    }
  });

  it('issues an unscoped token when asked for one by name, as the dashboard logs in', async () => {
    const user = { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD };
    const asked = (scope: unknown) =>
      harness.request('POST', '/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['password'], password: { user } }, scope } },
      });
    const issued = await asked('unscoped');
    expect(issued.status).toBe(201);
    const document = (issued.body as { token: Record<string, unknown> }).token;
    expect(document).toMatchObject({ methods: ['password'], user: { name: 'admin' } });
    for (const key of ['project', 'roles', 'catalog']) expect(document).not.toHaveProperty(key);
    expect((await asked('everything')).status).toBe(400);
  });

  it('issues an unscoped token to a user with no usable default project, good only for its own things', async () => {
    const uma = await harness.member('identity-unscoped', 'identity-uma');
    const admin = await harness.adminToken();
    const made = await harness.request('POST', '/v3/users', {
      token: admin,
      body: { user: { name: 'identity-ned', password: 'ned-password' } },
    });
    const nedId = (made.body as { user: { id: string } }).user.id;
    const roles = await harness.request('GET', '/v3/roles?name=member', { token: admin });
    const member = (roles.body as { roles: { id: string }[] }).roles[0]!.id;
    const grant = `/v3/projects/${uma.projectId}/users/${nedId}/roles/${member}`;
    expect((await harness.request('PUT', grant, { token: admin })).status).toBe(204);

    const issued = await harness.request('POST', '/v3/auth/tokens', {
      body: passwordAuth({ id: nedId, password: 'ned-password' }),
    });
    expect(issued.status).toBe(201);
    const token = issued.headers.get('x-subject-token')!;
    const document = (issued.body as { token: Record<string, unknown> }).token;
    expect(document).toMatchObject({ methods: ['password'], user: { id: nedId } });
    for (const key of ['project', 'roles', 'catalog']) expect(document).not.toHaveProperty(key);

    // It shows its own projects and validates itself, and gets nothing else.
    const projects = await harness.request('GET', '/v3/auth/projects', { token });
    expect((projects.body as { projects: { id: string }[] }).projects.map((p) => p.id)).toEqual([
      uma.projectId,
    ]);
    const self = await harness.request('GET', '/v3/auth/tokens', {
      token,
      headers: { 'x-subject-token': token },
    });
    expect(self.status).toBe(200);
    expect((await harness.request('GET', `/v3/users/${nedId}`, { token })).status).toBe(200);
    expect((await harness.request('GET', `/v3/users/${uma.userId}`, { token })).status).toBe(403);
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(403);
    expect((await harness.request('GET', '/v3/auth/catalog', { token })).status).toBe(403);

    // Exchanged for a token scoped to a project it holds a role on; not to one it does not.
    const rescope = (project: string) =>
      harness.request('POST', '/v3/auth/tokens', {
        body: {
          auth: {
            identity: { methods: ['token'], token: { id: token } },
            scope: { project: { id: project } },
          },
        },
      });
    const scoped = await rescope(uma.projectId);
    expect(scoped.status).toBe(201);
    const scopedToken = scoped.headers.get('x-subject-token')!;
    expect((await harness.request('GET', '/v2.1/servers', { token: scopedToken })).status).toBe(200);
    const catalog = await harness.request('GET', '/v3/auth/catalog', { token: scopedToken });
    expect((catalog.body as { catalog: { type: string }[] }).catalog.map((entry) => entry.type)).toEqual(
      expect.arrayContaining(['identity', 'compute', 'image']),
    );
    const adminProject = (await harness.request('GET', '/v3/projects?name=admin', { token: admin })).body as {
      projects: { id: string }[];
    };
    expect((await rescope(adminProject.projects[0]!.id)).status).toBe(401);
  });

  it('refuses a domain or system scope with 401, as Keystone does for a user without a role there', async () => {
    for (const scope of [
      { domain: { id: 'default' } },
      { domain: { name: 'Default' } },
      { system: { all: true } },
    ]) {
      const refused = await harness.request('POST', '/v3/auth/tokens', {
        body: {
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } },
            },
            scope,
          },
        },
      });
      expect(refused.status).toBe(401);
    }
  });

  it('refuses malformed authentication requests with 400 in the Keystone shape', async () => {
    const refused = await harness.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'] }, extra: 1 } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 400, title: 'Bad Request' } });
  });

  it('validates, checks and revokes a token; a revoked token is refused everywhere', async () => {
    const admin = await harness.adminToken();
    const subject = await harness.adminToken();
    const validated = await harness.request('GET', '/v3/auth/tokens', {
      token: admin,
      headers: { 'X-Subject-Token': subject },
    });
    expect(validated.status).toBe(200);
    expect(validated.headers.get('x-subject-token')).toBe(subject);
    expect(validated.body).toMatchObject({ token: { user: { name: 'admin' } } });
    const checked = await harness.request('HEAD', '/v3/auth/tokens', {
      token: admin,
      headers: { 'X-Subject-Token': subject },
    });
    expect(checked.status).toBe(200);

    const revoked = await harness.request('DELETE', '/v3/auth/tokens', {
      token: admin,
      headers: { 'X-Subject-Token': subject },
    });
    expect(revoked.status).toBe(204);
    const useRevoked = await harness.request('GET', '/v2.1/servers', { token: subject });
    expect(useRevoked.status).toBe(401);
    expect(useRevoked.headers.get('www-authenticate')).toBe(`Keystone uri="${harness.url}/v3"`);
    const validateRevoked = await harness.request('GET', '/v3/auth/tokens', {
      token: admin,
      headers: { 'X-Subject-Token': subject },
    });
    expect(validateRevoked.status).toBe(404);
    expect(validateRevoked.body).toMatchObject({ error: { code: 404, title: 'Not Found' } });
  });

  it('records a revocation as an event carrying the audit id, never the token', async () => {
    const subject = await harness.adminToken();
    const validated = await harness.request('GET', '/v3/auth/tokens', {
      token: subject,
      headers: { 'X-Subject-Token': subject },
    });
    const auditId = (validated.body as { token: { audit_ids: string[] } }).token.audit_ids[0]!;
    const revoked = await harness.request('DELETE', '/v3/auth/tokens', {
      token: subject,
      headers: { 'X-Subject-Token': subject },
    });
    const events = [];
    for await (const event of harness.store.read(`token-${auditId}`)) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['TokenRevoked']);
    expect(JSON.stringify(events.map(({ data, metadata }) => ({ data, metadata })))).not.toContain(subject);
    expect(events[0]?.metadata.correlationId).toBe(revoked.headers.get('x-openstack-request-id'));
  });

  it('refuses an expired token', async () => {
    const token = await harness.adminToken();
    expect((await harness.request('GET', '/v2.1/flavors', { token })).status).toBe(200);
    harness.advanceClock(3601_000);
    try {
      const expired = await harness.request('GET', '/v2.1/flavors', { token });
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ error: { code: 401, title: 'Unauthorized' } });
    } finally {
      harness.advanceClock(-3601_000);
    }
  });

  it('refuses a token whose signature does not verify', async () => {
    const token = await harness.adminToken();
    const [prefix, claims, mac] = token.split('.');
    const forged = `${prefix}.${claims}.${mac!.slice(0, -2)}AA`;
    expect((await harness.request('GET', '/v2.1/flavors', { token: forged })).status).toBe(401);
  });

  it("lets a member validate only its own token (Keystone's identity:validate_token)", async () => {
    const alice = await harness.member('identity-a', 'identity-alice');
    const bob = await harness.member('identity-b', 'identity-bob');
    const own = await harness.request('GET', '/v3/auth/tokens', {
      token: alice.token,
      headers: { 'X-Subject-Token': alice.token },
    });
    expect(own.status).toBe(200);
    const foreign = await harness.request('GET', '/v3/auth/tokens', {
      token: alice.token,
      headers: { 'X-Subject-Token': bob.token },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ error: { code: 403, title: 'Forbidden' } });
  });

  it('lets the configured service user authenticate with the service role', async () => {
    const token = await harness.login('nimbus-compute', 'service-secret-for-tests', 'service');
    const validated = await harness.request('GET', '/v3/auth/tokens', {
      token,
      headers: { 'X-Subject-Token': token },
    });
    expect(
      (validated.body as { token: { roles: { name: string }[] } }).token.roles.map((role) => role.name),
    ).toEqual(['service']);
  });

  it('shows projects as Keystone does: any to an admin, by name or id, and only its own to a member', async () => {
    const admin = await harness.adminToken();
    const carol = await harness.member('identity-projects-c', 'identity-carol');
    const dave = await harness.member('identity-projects-d', 'identity-dave');

    const byName = await harness.request('GET', '/v3/projects?name=identity-projects-c', { token: admin });
    expect(byName.status).toBe(200);
    expect(byName.body).toEqual({
      projects: [
        {
          id: carol.projectId,
          name: 'identity-projects-c',
          domain_id: 'default',
          description: '',
          enabled: true,
          parent_id: 'default',
          is_domain: false,
          tags: [],
          options: {},
          links: { self: `${harness.url}/v3/projects/${carol.projectId}` },
        },
      ],
      links: { self: `${harness.url}/v3/projects`, previous: null, next: null },
    });
    const none = await harness.request('GET', '/v3/projects?name=no-such-project', { token: admin });
    expect(none.body).toMatchObject({ projects: [] });
    const shown = await harness.request('GET', `/v3/projects/${carol.projectId}`, { token: admin });
    expect(shown.body).toMatchObject({ project: { id: carol.projectId, name: 'identity-projects-c' } });
    const missing = await harness.request('GET', '/v3/projects/0123456789abcdef0123456789abcdef', {
      token: admin,
    });
    expect(missing.body).toEqual({
      error: {
        code: 404,
        message: 'Could not find project: 0123456789abcdef0123456789abcdef.',
        title: 'Not Found',
      },
    });

    const own = await harness.request('GET', `/v3/projects/${carol.projectId}`, { token: carol.token });
    expect(own.status).toBe(200);
    const foreign = await harness.request('GET', `/v3/projects/${dave.projectId}`, { token: carol.token });
    expect(foreign.body).toEqual({
      error: {
        code: 403,
        message: 'You are not authorized to perform the requested action: identity:get_project.',
        title: 'Forbidden',
      },
    });
    const list = await harness.request('GET', '/v3/projects', { token: carol.token });
    expect(list.status).toBe(403);
  });
});
