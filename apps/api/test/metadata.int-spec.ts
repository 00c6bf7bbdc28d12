/**
 * The instance metadata service on its Unix socket, asked as a host's metadata proxy asks: with the
 * network a guest's request came from and the guest's address. Each answer is checked against what the
 * test booted (the server, its name, its key pair's public key), and each request that names no live
 * server's address, or comes without the proxy's headers, is refused.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { deleted, publicImage } from './support/simulate.js';

type Json = Record<string, unknown>;
const NET = '/networking/v2.0';

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

describe('the instance metadata service', () => {
  const folder = mkdtempSync(join(tmpdir(), 'nimbus-metadata-'));
  const socket = join(folder, 'metadata.sock');
  let harness: Harness;
  let alice: Member;
  let networkId: string;
  let serverId: string;
  let address: string;
  let publicKey: string;
  let imageId: string;
  const USER_DATA = '#!/bin/sh\necho "hello from user data"\n';

  /** A request as the proxy forwards it; headers left out or replaced as a test asks. */
  const ask = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          socketPath: socket,
          path,
          method,
          headers: { 'X-Nimbus-Network-ID': networkId, 'X-Forwarded-For': address, ...headers },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              type: String(response.headers['content-type']),
              body,
            }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    });

  beforeAll(async () => {
    harness = await startHarness({ env: { NIMBUS_API_METADATA_SOCKET: socket } });
    const admin = await harness.adminToken();
    alice = await harness.member('meta-alice', 'meta-alice');
    imageId = await publicImage(harness, admin);
    const network = await harness.request('POST', `${NET}/networks`, {
      token: alice.token,
      body: { network: { name: 'meta' } },
    });
    networkId = String(((network.body as Json)['network'] as Json)['id']);
    await harness.request('POST', `${NET}/subnets`, {
      token: alice.token,
      body: { subnet: { network_id: networkId, cidr: '10.70.0.0/24', ip_version: 4 } },
    });
    const keypair = await harness.request('POST', '/v2.1/os-keypairs', {
      token: alice.token,
      microversion: '2.2',
      body: { keypair: { name: 'laptop' } },
    });
    publicKey = String(((keypair.body as Json)['keypair'] as Json)['public_key']);
    const created = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: {
        server: {
          name: 'Web Server 1',
          imageRef: imageId,
          flavorRef: '0',
          key_name: 'laptop',
          metadata: { role: 'web' },
          user_data: Buffer.from(USER_DATA).toString('base64'),
          networks: [{ uuid: networkId }],
        },
      },
    });
    serverId = String(((created.body as Json)['server'] as Json)['id']);
    const ports = await harness.request('GET', `${NET}/ports?device_id=${serverId}`, { token: alice.token });
    address = String(
      (((ports.body as { ports: Json[] }).ports[0]?.['fixed_ips'] as Json[])[0] as Json)['ip_address'],
    );
  }, 60_000);

  afterAll(async () => {
    await harness.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('listens on a socket only its owner may open', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
  });

  it("tells the guest at the address its own OpenStack metadata, with its key pair's public key", async () => {
    const reply = await ask('/openstack/latest/meta_data.json');
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({
      uuid: serverId,
      name: 'Web Server 1',
      hostname: 'web-server-1',
      launch_index: 0,
      availability_zone: 'nova',
      project_id: alice.projectId,
      meta: { role: 'web' },
      public_keys: { laptop: publicKey },
      keys: [{ name: 'laptop', type: 'ssh', data: publicKey }],
      devices: [],
    });
    expect((await ask('/openstack/2012-08-10/meta_data.json')).status).toBe(200);
    expect((await ask('/openstack')).body.split('\n')).toContain('latest');
  });

  it('answers the EC2-style paths', async () => {
    expect((await ask('/latest/meta-data/instance-id')).body).toBe(serverId);
    expect((await ask('/latest/meta-data/local-ipv4')).body).toBe(address);
    expect((await ask('/latest/meta-data/hostname')).body).toBe('web-server-1');
    expect((await ask('/latest/meta-data/public-keys/0/openssh-key')).body).toBe(publicKey);
    expect((await ask('/latest/meta-data/public-keys')).body).toBe('0=laptop');
    expect((await ask('/latest/meta-data/')).body.split('\n')).toEqual(
      expect.arrayContaining(['instance-id', 'local-ipv4', 'public-keys/', 'placement/']),
    );
  });

  it.each([
    ['an address no port holds', { 'X-Forwarded-For': '10.70.0.250' }, 404],
    ['another network', { 'X-Nimbus-Network-ID': '00000000-0000-4000-8000-000000000000' }, 404],
    ['no network named', { 'X-Nimbus-Network-ID': '' }, 400],
    ['an address that is not IPv4', { 'X-Forwarded-For': 'fd00::5' }, 400],
  ])('refuses a request from %s', async (_what, headers, status) => {
    expect((await ask('/openstack/latest/meta_data.json', headers)).status).toBe(status);
  });

  it('takes the address the proxy appended, not one the guest sent before it', async () => {
    const reply = await ask('/latest/meta-data/instance-id', {
      'X-Forwarded-For': `10.70.0.250, ${address}`,
    });
    expect(reply.body).toBe(serverId);
  });

  it('serves GET only', async () => {
    expect((await ask('/openstack/latest/meta_data.json', {}, 'POST')).status).toBe(405);
  });

  it('hands the guest the user data it was created with, and a server created without any a 404', async () => {
    expect((await ask('/openstack/latest/')).body.split('\n')).toEqual(['meta_data.json', 'user_data']);
    const given = await ask('/openstack/latest/user_data');
    expect(given).toMatchObject({ status: 200, type: 'application/octet-stream', body: USER_DATA });
    expect((await ask('/latest/user-data')).body).toBe(USER_DATA);
    expect((await ask('/latest/')).body.split('\n')).toEqual(['meta-data/', 'user-data']);
    const admin = await harness.adminToken();
    const shown = await harness.request('GET', `/v2.1/servers/${serverId}`, {
      token: admin,
      microversion: '2.3',
    });
    expect(((shown.body as Json)['server'] as Json)['OS-EXT-SRV-ATTR:user_data']).toBe(
      Buffer.from(USER_DATA).toString('base64'),
    );

    const plain = await harness.request('POST', '/v2.1/servers', {
      token: alice.token,
      microversion: '2.37',
      body: { server: { name: 'plain', imageRef: imageId, flavorRef: '0', networks: [{ uuid: networkId }] } },
    });
    const plainId = String(((plain.body as Json)['server'] as Json)['id']);
    const ports = await harness.request('GET', `${NET}/ports?device_id=${plainId}`, { token: alice.token });
    const plainAddress = String(
      (((ports.body as { ports: Json[] }).ports[0]?.['fixed_ips'] as Json[])[0] as Json)['ip_address'],
    );
    const asPlain = { 'X-Forwarded-For': plainAddress };
    expect((await ask('/openstack/latest/meta_data.json', asPlain)).status).toBe(200);
    expect((await ask('/openstack/latest/user_data', asPlain)).status).toBe(404);
    expect((await ask('/latest/user-data', asPlain)).status).toBe(404);
    expect((await ask('/openstack/latest/', asPlain)).body).toBe('meta_data.json');
  });

  it('stops answering for a server once it is deleted', async () => {
    const asked = await harness.request('DELETE', `/v2.1/servers/${serverId}`, { token: alice.token });
    expect(asked.status).toBe(204);
    await deleted(harness, serverId, null);
    expect((await ask('/openstack/latest/meta_data.json')).status).toBe(404);
  });
});
