/**
 * Tenants with the real `openstack` CLI on a real libvirt host: the admin onboards two projects
 * and their users; a member boots in its own project; the other project's member can neither see,
 * act on nor guess that server (404); a reader sees it but may not act (403); and a token the user
 * already holds stops working at once when the user is disabled, changes its password or loses its
 * role. An application credential signs automation in until it is deleted.
 */
import { OpenStackCli, bootNano } from '../support/openstack-cli.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

type Row = Record<string, unknown>;

let system: NimbusSystem;
let admin: OpenStackCli;
const clients: OpenStackCli[] = [];

function userCli(user: string, password: string, project: string): OpenStackCli {
  const cli = new OpenStackCli(system.apiUrl!, { user, password, project });
  clients.push(cli);
  return cli;
}

/** A token the user's CLI obtains, as any client holds one between calls. */
async function tokenOf(cli: OpenStackCli): Promise<string> {
  return String((await cli.json<Row>('token', 'issue'))['id']);
}

/** The HTTP status of a call made with a token the caller already holds. */
async function statusWith(
  token: string,
  path: string,
  init: { method?: string; body?: string } = {},
): Promise<number> {
  const response = await fetch(`${system.apiUrl}${path}`, {
    ...init,
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

let serverId: string;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 1, api: true });
  admin = new OpenStackCli(system.apiUrl!, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
  clients.push(admin);
  for (const project of ['team-a', 'team-b']) {
    await admin.json('project', 'create', '--domain', 'default', project);
  }
  const users: [string, string, string][] = [
    ['alice', 'team-a', 'member'],
    ['bob', 'team-b', 'member'],
    ['carol', 'team-a', 'reader'],
  ];
  for (const [user, project, role] of users) {
    await admin.json('user', 'create', '--domain', 'default', '--password', `${user}-pw`, user);
    const added = await admin.openstack('role', 'add', '--project', project, '--user', user, role);
    if (added.status !== 0) throw new Error(`role add ${user}: ${added.stderr}`);
  }
}, 240_000);

afterAll(async () => {
  for (const cli of clients) cli.close();
  await system.stop();
}, 120_000);

describe('projects, users and roles with the openstack CLI', () => {
  it('lets a member boot a server in its own project', async () => {
    const alice = userCli('alice', 'alice-pw', 'team-a');
    const server = await bootNano(alice, 'alice-vm');
    expect(server).toMatchObject({ name: 'alice-vm', status: 'ACTIVE' });
    serverId = String(server['id']);
    const projects = await admin.json<Row[]>('project', 'list');
    const teamA = projects.find((row) => row['Name'] === 'team-a');
    expect(server['project_id']).toBe(teamA?.['ID']);
  }, 180_000);

  it("hides the server from another project's member: it can neither see, act on nor guess it", async () => {
    const bob = userCli('bob', 'bob-pw', 'team-b');
    expect(await bob.json<Row[]>('server', 'list')).toEqual([]);
    for (const args of [
      ['server', 'show', serverId],
      ['server', 'show', 'alice-vm'],
      ['server', 'stop', serverId],
      ['server', 'delete', serverId],
    ]) {
      const refused = await bob.openstack(...args);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/No server with a name or ID of '(alice-vm|[0-9a-f-]{36})' exists/);
    }
    // Straight to the API with the server's id, as a guess would go: Nova's 404, as for no server.
    const token = await tokenOf(bob);
    expect(await statusWith(token, `/v2.1/servers/${serverId}`)).toBe(404);
    expect(
      await statusWith(token, `/v2.1/servers/${serverId}/action`, {
        method: 'POST',
        body: JSON.stringify({ 'os-stop': null }),
      }),
    ).toBe(404);
    expect(await statusWith(token, `/v2.1/servers/${serverId}`, { method: 'DELETE' })).toBe(404);
    expect(await admin.json<Row>('server', 'show', serverId)).toMatchObject({ status: 'ACTIVE' });
  }, 120_000);

  it('lets a reader of the project see the server but not act on it', async () => {
    const carol = userCli('carol', 'carol-pw', 'team-a');
    expect(await carol.json<Row>('server', 'show', serverId)).toMatchObject({
      name: 'alice-vm',
      status: 'ACTIVE',
    });
    for (const args of [
      ['server', 'stop', serverId],
      ['server', 'delete', serverId],
    ]) {
      const refused = await carol.openstack(...args);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('(HTTP 403)');
    }
    expect(await admin.json<Row>('server', 'show', serverId)).toMatchObject({ status: 'ACTIVE' });
  }, 120_000);

  it("ends the user's existing token at once when the user is disabled", async () => {
    const alice = userCli('alice', 'alice-pw', 'team-a');
    const token = await tokenOf(alice);
    expect(await statusWith(token, '/v2.1/servers')).toBe(200);
    expect((await admin.openstack('user', 'set', '--disable', 'alice')).status).toBe(0);
    expect(await statusWith(token, '/v2.1/servers')).toBe(401);
    const refused = await alice.openstack('server', 'list');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('(HTTP 401)');
    expect((await admin.openstack('user', 'set', '--enable', 'alice')).status).toBe(0);
    expect(await statusWith(await tokenOf(alice), '/v2.1/servers')).toBe(200);
  }, 120_000);

  it("ends the user's existing token at once when the user changes its password", async () => {
    const alice = userCli('alice', 'alice-pw', 'team-a');
    const token = await tokenOf(alice);
    const changed = await alice.openstack(
      'user',
      'password',
      'set',
      '--original-password',
      'alice-pw',
      '--password',
      'alice-pw-2',
    );
    expect(changed.status).toBe(0);
    expect(await statusWith(token, '/v2.1/servers')).toBe(401);
    expect((await alice.openstack('server', 'list')).stderr).toContain('(HTTP 401)');
    const renewed = userCli('alice', 'alice-pw-2', 'team-a');
    expect((await renewed.json<Row[]>('server', 'list')).map((row) => row['Name'])).toEqual(['alice-vm']);
  }, 120_000);

  it('authenticates automation with an application credential until it is deleted', async () => {
    const alice = userCli('alice', 'alice-pw-2', 'team-a');
    const credential = await alice.json<Row>('application', 'credential', 'create', 'alice-ci');
    const automation = new OpenStackCli(system.apiUrl!, {
      applicationCredentialId: String(credential['id']),
      secret: String(credential['secret']),
    });
    clients.push(automation);
    expect((await automation.json<Row[]>('server', 'list')).map((row) => row['Name'])).toEqual(['alice-vm']);
    expect((await alice.openstack('application', 'credential', 'delete', 'alice-ci')).status).toBe(0);
    const refused = await automation.openstack('server', 'list');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('(HTTP 401)');
  }, 120_000);

  it("ends the user's existing token at once when its role on the project is revoked", async () => {
    const alice = userCli('alice', 'alice-pw-2', 'team-a');
    const token = await tokenOf(alice);
    const removed = await admin.openstack(
      'role',
      'remove',
      '--project',
      'team-a',
      '--user',
      'alice',
      'member',
    );
    expect(removed.status).toBe(0);
    expect(await statusWith(token, '/v2.1/servers')).toBe(401);
    expect((await alice.openstack('server', 'list')).stderr).toContain('(HTTP 401)');
    // The server stays, in its project, for the admin to clean up.
    expect((await admin.openstack('server', 'delete', '--wait', serverId)).status).toBe(0);
  }, 180_000);
});
