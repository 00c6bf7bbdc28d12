/**
 * Onboarding a tenant through the Keystone API: an admin creates a project and a user, grants the user a
 * role on the project, checks and lists the assignment, and revokes it; the user's token works while the
 * role is held and stops at once when it is revoked. Projects are described and tagged, roles and
 * domains made and deleted. Members may not manage identities; what Nimbus cannot keep (a domain that
 * does not exist, a user created disabled, unknown fields) is a 400 that writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, startHarness } from './support/api-harness.js';

type Json = Record<string, unknown>;

describe('identity management (Keystone v3)', () => {
  let harness: Harness;
  let admin: string;

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  const asAdmin = (method: string, path: string, body?: unknown) =>
    harness.request(method, path, { token: admin, ...(body === undefined ? {} : { body }) });

  async function roleId(name: string): Promise<string> {
    const listed = await asAdmin('GET', `/v3/roles?name=${name}`);
    const [role] = (listed.body as { roles: { id: string; name: string }[] }).roles;
    expect(role?.name).toBe(name);
    return role!.id;
  }

  it('creates a project and a user, grants, checks, lists and revokes a role; tokens follow at once', async () => {
    const project = await asAdmin('POST', '/v3/projects', {
      project: { name: 'tenant-a', description: 'first tenant', domain_id: 'default', enabled: true },
    });
    expect(project.status).toBe(201);
    const projectId = (project.body as { project: Json }).project['id'] as string;
    expect((project.body as { project: Json }).project).toMatchObject({
      name: 'tenant-a',
      description: 'first tenant',
      domain_id: 'default',
      enabled: true,
    });

    const user = await asAdmin('POST', '/v3/users', {
      user: { name: 'ann', password: 'ann-password-1', default_project_id: projectId, enabled: true },
    });
    expect(user.status).toBe(201);
    const userId = (user.body as { user: Json }).user['id'] as string;
    expect(JSON.stringify(user.body)).not.toContain('ann-password-1');
    expect((await asAdmin('GET', '/v3/users?name=ann')).body).toMatchObject({
      users: [{ id: userId, name: 'ann', default_project_id: projectId }],
    });

    // No role yet: the password is right, but there is nothing to scope a token to.
    await expect(harness.login('ann', 'ann-password-1', 'tenant-a')).rejects.toThrow(/401/);

    const member = await roleId('member');
    const grant = `/v3/projects/${projectId}/users/${userId}/roles/${member}`;
    expect((await asAdmin('HEAD', grant)).status).toBe(404);
    expect((await asAdmin('PUT', grant)).status).toBe(204);
    expect((await asAdmin('PUT', grant)).status).toBe(204);
    expect((await asAdmin('HEAD', grant)).status).toBe(204);
    const listed = await asAdmin('GET', `/v3/role_assignments?scope.project.id=${projectId}&include_names`);
    expect((listed.body as { role_assignments: Json[] }).role_assignments).toEqual([
      {
        scope: { project: { id: projectId, name: 'tenant-a', domain: { id: 'default', name: 'Default' } } },
        user: { id: userId, name: 'ann', domain: { id: 'default', name: 'Default' } },
        role: { id: member, name: 'member' },
        links: { assignment: `${harness.url}${grant}` },
      },
    ]);

    const effective = await asAdmin('GET', `/v3/role_assignments?user.id=${userId}&effective&include_names`);
    expect(
      (effective.body as { role_assignments: { role: { name: string } }[] }).role_assignments.map(
        (assignment) => assignment.role.name,
      ),
    ).toEqual(['member', 'reader']);

    const token = await harness.login('ann', 'ann-password-1', 'tenant-a');
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(200);
    expect((await harness.request('GET', `/v3/users/${userId}`, { token })).status).toBe(200);
    const projectNames = (body: unknown): string[] =>
      (body as { projects: { name: string }[] }).projects.map((entry) => entry.name);
    expect(projectNames((await harness.request('GET', '/v3/auth/projects', { token })).body)).toEqual([
      'tenant-a',
    ]);
    expect(
      projectNames((await harness.request('GET', `/v3/users/${userId}/projects`, { token })).body),
    ).toEqual(['tenant-a']);
    expect(projectNames((await asAdmin('GET', `/v3/users/${userId}/projects`)).body)).toEqual(['tenant-a']);

    expect((await asAdmin('DELETE', grant)).status).toBe(204);
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(401);
    expect((await asAdmin('DELETE', grant)).status).toBe(404);
    expect(
      (await asAdmin('GET', `/v3/role_assignments?user.id=${userId}`)).body as { role_assignments: Json[] },
    ).toMatchObject({ role_assignments: [] });
  });

  it("refuses a second project or user of the same name with Keystone's 409", async () => {
    expect((await asAdmin('POST', '/v3/projects', { project: { name: 'tenant-b' } })).status).toBe(201);
    const again = await asAdmin('POST', '/v3/projects', { project: { name: 'tenant-b' } });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toContain(
      'two projects with the same name in the same domain : tenant-b',
    );
    expect((await asAdmin('POST', '/v3/users', { user: { name: 'bea', password: 'p' } })).status).toBe(201);
    expect((await asAdmin('POST', '/v3/users', { user: { name: 'bea', password: 'q' } })).status).toBe(409);
  });

  it('lets a member read itself only, and manage nothing', async () => {
    const alice = await harness.member('identity-admin-a', 'identity-admin-alice');
    const bob = await harness.member('identity-admin-b', 'identity-admin-bob');
    const as = (method: string, path: string, body?: unknown) =>
      harness.request(method, path, { token: alice.token, ...(body === undefined ? {} : { body }) });

    expect((await as('GET', `/v3/users/${alice.userId}`)).status).toBe(200);
    expect((await as('GET', `/v3/users/${bob.userId}`)).status).toBe(403);
    expect((await as('GET', '/v3/users')).status).toBe(403);
    expect((await as('POST', '/v3/projects', { project: { name: 'by-a-member' } })).status).toBe(403);
    expect((await as('POST', '/v3/users', { user: { name: 'by-a-member' } })).status).toBe(403);
    const member = await roleId('member');
    expect(
      (await as('PUT', `/v3/projects/${bob.projectId}/users/${alice.userId}/roles/${member}`)).status,
    ).toBe(403);
    expect((await as('GET', '/v3/role_assignments')).status).toBe(403);
    expect((await as('GET', `/v3/users/${bob.userId}/projects`)).status).toBe(403);
  });

  it('ends every token of a disabled or deleted user or project at once, and takes them back when enabled', async () => {
    const dan = await harness.member('identity-admin-e', 'identity-admin-dan');
    const servers = async (token: string): Promise<number> =>
      (await harness.request('GET', '/v2.1/servers', { token })).status;
    expect(await servers(dan.token)).toBe(200);

    const disabled = await asAdmin('PATCH', `/v3/users/${dan.userId}`, { user: { enabled: false } });
    expect(disabled.body).toMatchObject({ user: { id: dan.userId, enabled: false } });
    expect(await servers(dan.token)).toBe(401);
    await expect(harness.login(dan.name, dan.password, 'identity-admin-e')).rejects.toThrow(/401/);
    expect((await asAdmin('PATCH', `/v3/users/${dan.userId}`, { user: { enabled: true } })).status).toBe(200);
    expect(await servers(dan.token)).toBe(200);

    expect(
      (await asAdmin('PATCH', `/v3/users/${dan.userId}`, { user: { password: 'new-one' } })).status,
    ).toBe(200);
    await expect(harness.login(dan.name, dan.password, 'identity-admin-e')).rejects.toThrow(/401/);
    const token = await harness.login(dan.name, 'new-one', 'identity-admin-e');

    const project = await asAdmin('PATCH', `/v3/projects/${dan.projectId}`, { project: { enabled: false } });
    expect(project.body).toMatchObject({ project: { id: dan.projectId, enabled: false } });
    expect(await servers(token)).toBe(401);
    await expect(harness.login(dan.name, 'new-one', 'identity-admin-e')).rejects.toThrow(/401/);
    const names = async (filter: string): Promise<string[]> =>
      (
        (await asAdmin('GET', `/v3/projects?${filter}`)).body as { projects: { name: string }[] }
      ).projects.map((entry) => entry.name);
    expect(await names('enabled=false')).toEqual(['identity-admin-e']);
    expect(await names('enabled=true')).not.toContain('identity-admin-e');
    expect(await names('is_domain=true')).toEqual([]);
    expect(await names('parent_id=default&name=identity-admin-e')).toEqual(['identity-admin-e']);
    expect(
      (await asAdmin('PATCH', `/v3/projects/${dan.projectId}`, { project: { enabled: true } })).status,
    ).toBe(200);
    expect(await servers(token)).toBe(200);

    expect((await asAdmin('DELETE', `/v3/projects/${dan.projectId}`)).status).toBe(204);
    expect(await servers(token)).toBe(401);
    expect((await asAdmin('GET', `/v3/projects/${dan.projectId}`)).status).toBe(404);
    expect((await asAdmin('DELETE', `/v3/users/${dan.userId}`)).status).toBe(204);
    expect((await asAdmin('GET', `/v3/users/${dan.userId}`)).status).toBe(404);
    expect((await asAdmin('DELETE', `/v3/users/${dan.userId}`)).status).toBe(404);

    // The name is free again: a new user of that name starts with no roles.
    const again = await asAdmin('POST', '/v3/users', { user: { name: dan.name, password: 'p' } });
    expect(again.status).toBe(201);
    expect((await asAdmin('GET', `/v3/role_assignments?user.id=${dan.userId}`)).body).toMatchObject({
      role_assignments: [],
    });
    expect(
      (await asAdmin('PATCH', `/v3/projects/${dan.projectId}`, { project: { enabled: true } })).status,
    ).toBe(404);
  });

  it('lets a user change its own password, proving the old one; its earlier tokens stop working', async () => {
    const eve = await harness.member('identity-admin-f', 'identity-admin-eve');
    const other = await harness.member('identity-admin-g', 'identity-admin-gus');
    const change = (token: string, userId: string, user: Json) =>
      harness.request('POST', `/v3/users/${userId}/password`, { token, body: { user } });
    // Tokens carry whole seconds: the change must come in a later second than the token.
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    expect((await change(eve.token, eve.userId, { password: 'x', original_password: 'wrong' })).status).toBe(
      401,
    );
    expect(
      (await change(eve.token, other.userId, { password: 'x', original_password: other.password })).status,
    ).toBe(403);
    expect((await change(admin, eve.userId, { password: 'x', original_password: eve.password })).status).toBe(
      403,
    );
    expect((await change(eve.token, eve.userId, { password: 'x' })).status).toBe(400);
    expect((await harness.request('GET', '/v2.1/servers', { token: eve.token })).status).toBe(200);

    const changed = await change(eve.token, eve.userId, {
      password: 'eve-new-pw',
      original_password: eve.password,
    });
    expect(changed.status).toBe(204);
    expect((await harness.request('GET', '/v2.1/servers', { token: eve.token })).status).toBe(401);
    await expect(harness.login(eve.name, eve.password, 'identity-admin-f')).rejects.toThrow(/401/);
    const token = await harness.login(eve.name, 'eve-new-pw', 'identity-admin-f');
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(200);
  });

  it('shows Default to anyone', async () => {
    const alice = await harness.member('identity-admin-d', 'identity-admin-dora');
    const domains = await harness.request('GET', '/v3/domains', { token: alice.token });
    expect(domains.body).toMatchObject({ domains: [{ id: 'default', name: 'Default', enabled: true }] });
    expect(
      (await harness.request('GET', '/v3/domains?name=Other', { token: alice.token })).body,
    ).toMatchObject({
      domains: [],
    });
    expect((await harness.request('GET', '/v3/domains/default', { token: alice.token })).status).toBe(200);
    expect((await harness.request('GET', '/v3/domains/other', { token: alice.token })).status).toBe(404);
  });

  it('describes, tags and renames projects, lists them by tag, and creates one disabled', async () => {
    const created = await asAdmin('POST', '/v3/projects', {
      project: { name: 'tagged', description: 'before', tags: ['prod', 'web'] },
    });
    expect(created.status).toBe(201);
    const id = String((created.body as { project: Json }).project['id']);
    expect((created.body as { project: Json }).project).toMatchObject({ tags: ['prod', 'web'] });
    const updated = await asAdmin('PATCH', `/v3/projects/${id}`, {
      project: { description: 'after', tags: ['prod', 'db', 'prod'] },
    });
    expect(updated.status).toBe(200);
    expect((updated.body as { project: Json }).project).toMatchObject({
      description: 'after',
      tags: ['prod', 'db'],
    });
    expect((await asAdmin('PUT', `/v3/projects/${id}/tags/blue`)).status).toBe(201);
    expect((await asAdmin('GET', `/v3/projects/${id}/tags/blue`)).status).toBe(204);
    expect((await asAdmin('DELETE', `/v3/projects/${id}/tags/db`)).status).toBe(204);
    expect((await asAdmin('GET', `/v3/projects/${id}/tags/db`)).status).toBe(404);
    expect((await asAdmin('GET', `/v3/projects/${id}/tags`)).body).toEqual({ tags: ['prod', 'blue'] });

    const byTag = async (query: string): Promise<string[]> =>
      ((await asAdmin('GET', `/v3/projects?${query}`)).body as { projects: { name: string }[] }).projects
        .map((project) => project.name)
        .filter((name) => name === 'tagged');
    expect(await byTag('tags=prod,blue')).toEqual(['tagged']);
    expect(await byTag('tags=prod,db')).toEqual([]);
    expect(await byTag('tags-any=db,blue')).toEqual(['tagged']);
    expect(await byTag('not-tags=prod,blue')).toEqual([]);
    expect(await byTag('not-tags-any=db')).toEqual(['tagged']);

    const replaced = await asAdmin('PUT', `/v3/projects/${id}/tags`, { tags: ['only'] });
    expect(replaced.body).toEqual({ tags: ['only'] });
    expect((await asAdmin('DELETE', `/v3/projects/${id}/tags`)).status).toBe(204);
    expect((await asAdmin('GET', `/v3/projects/${id}`)).body).toMatchObject({ project: { tags: [] } });

    // Renamed, it keeps its id; its old name is free for a new project, and a name taken is a 409.
    const renamed = await asAdmin('PATCH', `/v3/projects/${id}`, { project: { name: 'retagged' } });
    expect((renamed.body as { project: Json }).project).toMatchObject({ id, name: 'retagged' });
    expect((await asAdmin('GET', '/v3/projects?name=retagged')).body).toMatchObject({ projects: [{ id }] });
    const again = await asAdmin('POST', '/v3/projects', { project: { name: 'tagged' } });
    expect(again.status).toBe(201);
    expect((again.body as { project: Json }).project['id']).not.toBe(id);
    const before = await harness.headPosition();
    expect((await asAdmin('PATCH', `/v3/projects/${id}`, { project: { name: 'tagged' } })).status).toBe(409);
    expect((await asAdmin('PUT', `/v3/projects/${id}/tags`, { tags: ['a/b'] })).status).toBe(400);
    expect(
      (
        await asAdmin('PUT', `/v3/projects/${id}/tags`, {
          tags: Array.from({ length: 81 }, (_, n) => `t${n}`),
        })
      ).status,
    ).toBe(400);
    expect(await harness.headPosition()).toBe(before);

    const off = await asAdmin('POST', '/v3/projects', { project: { name: 'born-disabled', enabled: false } });
    expect((off.body as { project: Json }).project).toMatchObject({ enabled: false });
  });

  it('makes and deletes roles: tokens carry a role an admin made, which grants nothing; deleting it takes it back', async () => {
    const made = await asAdmin('POST', '/v3/roles', { role: { name: 'auditor', description: 'reads' } });
    expect(made.status).toBe(201);
    const auditor = String((made.body as { role: Json }).role['id']);
    expect((made.body as { role: Json }).role).toMatchObject({
      name: 'auditor',
      description: 'reads',
      domain_id: null,
    });
    expect((await asAdmin('GET', '/v3/roles?name=auditor')).body).toMatchObject({ roles: [{ id: auditor }] });
    expect((await asAdmin('GET', `/v3/roles/${auditor}`)).status).toBe(200);
    const before = await harness.headPosition();
    expect((await asAdmin('POST', '/v3/roles', { role: { name: 'auditor' } })).status).toBe(409);
    expect((await asAdmin('POST', '/v3/roles', { role: { name: 'admin' } })).status).toBe(409);
    expect((await asAdmin('POST', '/v3/roles', { role: { name: 'has space' } })).status).toBe(400);
    expect((await asAdmin('DELETE', `/v3/roles/${await roleId('member')}`)).status).toBe(403);
    expect(await harness.headPosition()).toBe(before);

    const project = await asAdmin('POST', '/v3/projects', { project: { name: 'audited' } });
    const projectId = String((project.body as { project: Json }).project['id']);
    const user = await asAdmin('POST', '/v3/users', { user: { name: 'audrey', password: 'audrey-pw-1' } });
    const userId = String((user.body as { user: Json }).user['id']);
    const grant = `/v3/projects/${projectId}/users/${userId}/roles/${auditor}`;
    expect((await asAdmin('PUT', grant)).status).toBe(204);
    expect((await asAdmin('HEAD', grant)).status).toBe(204);

    // A token on the project carries the role by name and id; policy gives it no right to the servers.
    const issued = await harness.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'audrey', domain: { id: 'default' }, password: 'audrey-pw-1' } },
          },
          scope: { project: { id: projectId } },
        },
      },
    });
    expect(issued.status).toBe(201);
    expect((issued.body as { token: { roles: Json[] } }).token.roles).toEqual([
      { id: auditor, name: 'auditor' },
    ]);
    const token = String(issued.headers.get('x-subject-token'));
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(403);

    expect((await asAdmin('DELETE', `/v3/roles/${auditor}`)).status).toBe(204);
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(401);
    expect((await asAdmin('GET', `/v3/roles/${auditor}`)).status).toBe(404);
    expect((await asAdmin('GET', `/v3/role_assignments?user.id=${userId}`)).body).toMatchObject({
      role_assignments: [],
    });
    // Made again by the same name, the role starts with no holder.
    expect((await asAdmin('POST', '/v3/roles', { role: { name: 'auditor' } })).status).toBe(201);
    expect((await asAdmin('HEAD', grant)).status).toBe(404);
  });

  it('makes domains with projects and users of their own; disabling one ends their tokens, deleting it takes them', async () => {
    const made = await asAdmin('POST', '/v3/domains', {
      domain: { name: 'Research', description: 'the lab' },
    });
    expect(made.status).toBe(201);
    const domainId = String((made.body as { domain: Json }).domain['id']);
    expect((made.body as { domain: Json }).domain).toMatchObject({ name: 'Research', enabled: true });
    expect((await asAdmin('POST', '/v3/domains', { domain: { name: 'research' } })).status).toBe(409);
    expect((await asAdmin('POST', '/v3/domains', { domain: { name: 'Default' } })).status).toBe(409);

    // The same names as in Default, in a domain of their own.
    const project = await asAdmin('POST', '/v3/projects', {
      project: { name: 'tenant-a', domain_id: domainId },
    });
    expect(project.status).toBe(201);
    const projectId = String((project.body as { project: Json }).project['id']);
    expect((project.body as { project: Json }).project).toMatchObject({
      domain_id: domainId,
      parent_id: domainId,
    });
    const user = await asAdmin('POST', '/v3/users', {
      user: { name: 'ann', password: 'lab-pw-1', domain_id: domainId },
    });
    expect(user.status).toBe(201);
    const userId = String((user.body as { user: Json }).user['id']);
    expect(
      (await asAdmin('PUT', `/v3/projects/${projectId}/users/${userId}/roles/${await roleId('member')}`))
        .status,
    ).toBe(204);

    const issued = await harness.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'ann', domain: { name: 'research' }, password: 'lab-pw-1' } },
          },
          scope: { project: { name: 'tenant-a', domain: { name: 'Research' } } },
        },
      },
    });
    expect(issued.status).toBe(201);
    expect((issued.body as { token: Json }).token).toMatchObject({
      user: { id: userId, domain: { id: domainId, name: 'Research' } },
      project: { id: projectId, domain: { id: domainId, name: 'Research' } },
    });
    const token = String(issued.headers.get('x-subject-token'));
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(200);
    // A member sees its own domain, not the others.
    expect((await harness.request('GET', '/v3/domains', { token })).body).toMatchObject({
      domains: [{ id: domainId, name: 'Research' }],
    });

    // Renamed, the domain keeps its id; its old name is free for another domain.
    const renamed = await asAdmin('PATCH', `/v3/domains/${domainId}`, { domain: { name: 'Lab' } });
    expect((renamed.body as { domain: Json }).domain).toMatchObject({ id: domainId, name: 'Lab' });
    const reused = await asAdmin('POST', '/v3/domains', { domain: { name: 'Research' } });
    expect((reused.body as { domain: Json }).domain['id']).not.toBe(domainId);
    expect((await asAdmin('PATCH', `/v3/domains/${domainId}`, { domain: { name: 'research' } })).status).toBe(
      409,
    );
    expect((await asAdmin('DELETE', `/v3/domains/${domainId}`)).status).toBe(403);
    expect((await asAdmin('PATCH', `/v3/domains/${domainId}`, { domain: { enabled: false } })).status).toBe(
      200,
    );
    expect((await harness.request('GET', '/v2.1/servers', { token })).status).toBe(401);
    expect((await asAdmin('DELETE', `/v3/domains/${domainId}`)).status).toBe(204);
    expect((await asAdmin('GET', `/v3/domains/${domainId}`)).status).toBe(404);
    expect((await asAdmin('GET', `/v3/users/${userId}`)).status).toBe(404);
    expect((await asAdmin('GET', `/v3/projects/${projectId}`)).status).toBe(404);
    expect((await asAdmin('PATCH', '/v3/domains/default', { domain: { enabled: false } })).status).toBe(403);
    expect((await asAdmin('DELETE', '/v3/domains/default')).status).toBe(403);
  });

  it("keeps a user's email, description and default project, and changes them and its name", async () => {
    const created = await asAdmin('POST', '/v3/users', {
      user: { name: 'eve', password: 'eve-pw-1', email: 'eve@example.org', description: 'on call' },
    });
    expect(created.status).toBe(201);
    const id = String((created.body as { user: Json }).user['id']);
    expect((created.body as { user: Json }).user).toMatchObject({
      email: 'eve@example.org',
      description: 'on call',
    });
    const project = await asAdmin('POST', '/v3/projects', { project: { name: 'eve-home' } });
    const projectId = String((project.body as { project: Json }).project['id']);
    const updated = await asAdmin('PATCH', `/v3/users/${id}`, {
      user: { default_project_id: projectId, description: 'off call', email: null, name: 'eve' },
    });
    expect(updated.status).toBe(200);
    const shown = (await asAdmin('GET', `/v3/users/${id}`)).body as { user: Json };
    expect(shown.user).toMatchObject({ default_project_id: projectId, description: 'off call' });
    expect(shown.user).not.toHaveProperty('email');
    // Renamed, the user signs in by its new name only.
    expect((await asAdmin('PATCH', `/v3/users/${id}`, { user: { name: 'eve2' } })).status).toBe(200);
    const member = await roleId('member');
    expect((await asAdmin('PUT', `/v3/projects/${projectId}/users/${id}/roles/${member}`)).status).toBe(204);
    await expect(harness.login('eve', 'eve-pw-1', 'eve-home')).rejects.toThrow(/401/);
    expect(await harness.login('eve2', 'eve-pw-1', 'eve-home')).toEqual(expect.any(String));
    const before = await harness.headPosition();
    expect((await asAdmin('PATCH', `/v3/users/${id}`, { user: { name: 'admin' } })).status).toBe(409);
    expect(
      (await asAdmin('PATCH', `/v3/users/${id}`, { user: { default_project_id: 'nowhere' } })).status,
    ).toBe(400);
    expect(await harness.headPosition()).toBe(before);
  });

  it('refuses what it cannot keep with a 400, and unknown ids with a 404, writing nothing', async () => {
    const before = await harness.headPosition();
    for (const body of [
      { project: { name: 'elsewhere', domain_id: 'another' } },
      { project: { name: 'child', parent_id: 'some-project' } },
      { project: { name: 'extra', colour: 'blue' } },
      { project: { name: ' padded' } },
      { project: {} },
      {},
    ])
      expect((await asAdmin('POST', '/v3/projects', body)).status).toBe(400);
    for (const body of [
      { user: { name: 'off', enabled: false } },
      { user: { name: 'elsewhere', domain_id: 'another' } },
      { user: { name: 'homeless', default_project_id: 'no-such-project' } },
      { user: { name: 'extra', colour: 'blue' } },
    ])
      expect((await asAdmin('POST', '/v3/users', body)).status).toBe(400);
    expect(await harness.headPosition()).toBe(before);

    expect((await asAdmin('GET', '/v3/users/no-such-user')).status).toBe(404);
    expect((await asAdmin('GET', '/v3/roles/no-such-role')).status).toBe(404);
    const member = await roleId('member');
    expect(
      (await asAdmin('PUT', `/v3/projects/no-such-project/users/no-such-user/roles/${member}`)).status,
    ).toBe(404);
  });
});
