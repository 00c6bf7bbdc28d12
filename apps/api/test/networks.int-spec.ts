import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { makeActive, registerHost } from './support/simulate.js';

type Json = Record<string, unknown>;

const NET = '/networking/v2.0';

describe('network API (Neutron v2.0 subset) and server NICs', () => {
  let harness: Harness;
  let admin: string;
  let alice: Member;
  let bob: Member;
  let imageId: string;

  const post = async (token: string, path: string, body: unknown): Promise<Json> => {
    const result = await harness.request('POST', `${NET}/${path}`, { token, body });
    if (result.status !== 201) throw new Error(`POST ${path}: ${result.status} ${result.text}`);
    return result.body as Json;
  };
  const get = async (token: string, path: string): Promise<Json> => {
    const result = await harness.request('GET', `${NET}/${path}`, { token });
    if (result.status !== 200) throw new Error(`GET ${path}: ${result.status} ${result.text}`);
    return result.body as Json;
  };
  const network = async (
    token: string,
    name: string,
    cidr: string,
  ): Promise<{ id: string; subnetId: string }> => {
    const made = (await post(token, 'networks', { network: { name } }))['network'] as Json;
    const subnet = (await post(token, 'subnets', {
      subnet: { network_id: made['id'], cidr, ip_version: 4, name: `${name}-subnet` },
    })) as { subnet: Json };
    return { id: String(made['id']), subnetId: String(subnet.subnet['id']) };
  };
  const boot = (token: string, name: string, networks: unknown, extra: Json = {}) =>
    harness.request('POST', '/v2.1/servers', {
      token,
      microversion: '2.37',
      body: { server: { name, imageRef: imageId, flavorRef: '0', networks, ...extra } },
    });

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.adminToken();
    alice = await harness.member('net-alice', 'net-alice');
    bob = await harness.member('net-bob', 'net-bob');
    const image = await harness.request('POST', '/image/v2/images', {
      token: admin,
      body: { name: 'boot', visibility: 'public' },
    });
    imageId = String((image.body as Json)['id']);
    await harness.request('PUT', `/image/v2/images/${imageId}/file`, {
      token: admin,
      raw: Buffer.from('boot'),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
  }, 30_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('lists the network API in the catalog and answers its version document', async () => {
    const login = await harness.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'net-alice', domain: { id: 'default' }, password: alice.password } },
          },
          scope: { project: { id: alice.projectId } },
        },
      },
    });
    const catalog = (login.body as { token: { catalog: { type: string; endpoints: { url: string }[] }[] } })
      .token.catalog;
    const entry = catalog.find((service) => service.type === 'network');
    expect(entry?.endpoints[0]?.url).toMatch(/\/networking$/);
    const versions = await harness.request('GET', '/networking');
    expect(versions.status).toBe(200);
    expect((versions.body as { versions: Json[] }).versions[0]).toMatchObject({
      id: 'v2.0',
      status: 'CURRENT',
    });
    const extensions = await get(alice.token, 'extensions');
    expect((extensions['extensions'] as Json[]).map((extension) => extension['alias'])).toContain(
      'security-group',
    );
  });

  it('makes a network and a subnet with Neutron defaults, and shows them to their project only', async () => {
    const { id, subnetId } = await network(alice.token, 'alice-net', '10.10.0.0/24');
    const shown = (await get(alice.token, `networks/${id}`))['network'] as Json;
    expect(shown).toMatchObject({
      id,
      name: 'alice-net',
      project_id: alice.projectId,
      tenant_id: alice.projectId,
      status: 'ACTIVE',
      admin_state_up: true,
      shared: false,
      'router:external': false,
      subnets: [subnetId],
      mtu: 1500,
    });
    const subnet = (await get(alice.token, `subnets/${subnetId}`))['subnet'] as Json;
    expect(subnet).toMatchObject({
      network_id: id,
      cidr: '10.10.0.0/24',
      gateway_ip: '10.10.0.1',
      allocation_pools: [{ start: '10.10.0.2', end: '10.10.0.254' }],
      enable_dhcp: true,
      ip_version: 4,
    });

    const hidden = await harness.request('GET', `${NET}/networks/${id}`, { token: bob.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({
      NeutronError: { type: 'NetworkNotFound', message: `Network ${id} could not be found.`, detail: '' },
    });
    const bobs = (await get(bob.token, 'networks'))['networks'] as Json[];
    expect(bobs.map((entry) => entry['id'])).not.toContain(id);
    const filtered = (await get(alice.token, 'networks?name=alice-net&fields=id&fields=name'))['networks'];
    expect(filtered).toEqual([{ id, name: 'alice-net' }]);
  });

  it('refuses what Neutron refuses, and writes nothing for it', async () => {
    const { id } = await network(alice.token, 'refusals', '10.20.0.0/24');
    const head = await harness.headPosition();
    const hostBits = await harness.request('POST', `${NET}/subnets`, {
      token: alice.token,
      body: { subnet: { network_id: id, cidr: '10.30.0.1/24', ip_version: 4 } },
    });
    expect(hostBits.status).toBe(400);
    expect(JSON.stringify(hostBits.body)).toContain("'10.30.0.0/24' is recommended");
    const overlap = await harness.request('POST', `${NET}/subnets`, {
      token: alice.token,
      body: { subnet: { network_id: id, cidr: '10.20.0.128/25', ip_version: 4 } },
    });
    expect(overlap.status).toBe(400);
    const shared = await harness.request('POST', `${NET}/networks`, {
      token: alice.token,
      body: { network: { name: 'mine-for-all', shared: true } },
    });
    expect(shared.status).toBe(403);
    const unknown = await harness.request('POST', `${NET}/networks`, {
      token: alice.token,
      body: { network: { name: 'x', colour: 'blue' } },
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as Json)['NeutronError']).toMatchObject({ type: 'HTTPBadRequest' });
    const onOthers = await harness.request('POST', `${NET}/ports`, {
      token: bob.token,
      body: { port: { network_id: id } },
    });
    expect(onOthers.status).toBe(404);
    // No group asked for: the project's default group, made on a project's first port as Neutron
    // does, is not what this refusal could be blamed for writing.
    const dhcpOwned = await harness.request('POST', `${NET}/ports`, {
      token: alice.token,
      body: { port: { network_id: id, device_owner: 'network:dhcp', security_groups: [] } },
    });
    expect(dhcpOwned.status).toBe(400);
    expect((dhcpOwned.body as Json)['NeutronError']).toMatchObject({ type: 'InvalidInput' });
    const outside = await harness.request('POST', `${NET}/ports`, {
      token: alice.token,
      body: { port: { network_id: id, fixed_ips: [{ ip_address: '10.99.0.5' }], security_groups: [] } },
    });
    expect(outside.status).toBe(400);
    expect((outside.body as Json)['NeutronError']).toMatchObject({ type: 'InvalidIpForNetwork' });
    expect(await harness.headPosition()).toBe(head);
  });

  it('gives ports distinct addresses from the pool, refuses a taken one, and keeps a network with ports', async () => {
    const { id, subnetId } = await network(alice.token, 'ports', '10.40.0.0/29');
    // The subnet has DHCP on, so the network's DHCP port holds the pool's first address, as in Neutron.
    const dhcp = (await get(alice.token, `ports?network_id=${id}&device_owner=network:dhcp`))[
      'ports'
    ] as Json[];
    expect(dhcp).toHaveLength(1);
    expect(dhcp[0]).toMatchObject({
      device_id: `dhcp-${id}`,
      fixed_ips: [{ subnet_id: subnetId, ip_address: '10.40.0.2' }],
    });
    const first = (await post(alice.token, 'ports', { port: { network_id: id } }))['port'] as Json;
    const second = (await post(alice.token, 'ports', { port: { network_id: id } }))['port'] as Json;
    expect(first['fixed_ips']).toEqual([{ subnet_id: subnetId, ip_address: '10.40.0.3' }]);
    expect(second['fixed_ips']).toEqual([{ subnet_id: subnetId, ip_address: '10.40.0.4' }]);
    expect(first['mac_address']).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(first['mac_address']).not.toBe(second['mac_address']);

    const taken = await harness.request('POST', `${NET}/ports`, {
      token: alice.token,
      body: { port: { network_id: id, fixed_ips: [{ ip_address: '10.40.0.4' }] } },
    });
    expect(taken.status).toBe(409);
    expect((taken.body as Json)['NeutronError']).toMatchObject({ type: 'IpAddressAlreadyAllocated' });

    const inUse = await harness.request('DELETE', `${NET}/networks/${id}`, { token: alice.token });
    expect(inUse.status).toBe(409);
    expect((inUse.body as Json)['NeutronError']).toMatchObject({ type: 'NetworkInUse' });

    for (const port of [first, second]) {
      expect(
        (await harness.request('DELETE', `${NET}/ports/${String(port['id'])}`, { token: alice.token }))
          .status,
      ).toBe(204);
    }
    // The DHCP port is the network's own: it goes with the network instead of keeping it in use.
    expect((await harness.request('DELETE', `${NET}/networks/${id}`, { token: alice.token })).status).toBe(
      204,
    );
    expect((await harness.request('GET', `${NET}/subnets/${subnetId}`, { token: alice.token })).status).toBe(
      404,
    );
    const left = (await get(alice.token, `ports?network_id=${id}`))['ports'] as Json[];
    expect(left).toEqual([]);
  });

  it("makes each project's default security group on first sight, with Neutron's rules", async () => {
    const groups = (await get(bob.token, 'security-groups'))['security_groups'] as Json[];
    expect(groups).toHaveLength(1);
    const [group] = groups as [Json];
    expect(group['name']).toBe('default');
    const rules = group['security_group_rules'] as Json[];
    expect(
      rules
        .map(
          (rule) =>
            `${String(rule['direction'])}/${String(rule['ethertype'])}/${String(rule['remote_group_id'])}`,
        )
        .sort(),
    ).toEqual([
      'egress/IPv4/null',
      'egress/IPv6/null',
      `ingress/IPv4/${String(group['id'])}`,
      `ingress/IPv6/${String(group['id'])}`,
    ]);
    const again = (await get(bob.token, 'security-groups'))['security_groups'] as Json[];
    expect(again.map((entry) => entry['id'])).toEqual([group['id']]);

    const ssh = {
      security_group_id: group['id'],
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    };
    const rule = (await post(bob.token, 'security-group-rules', { security_group_rule: ssh }))[
      'security_group_rule'
    ] as Json;
    expect(rule).toMatchObject({
      protocol: 'tcp',
      port_range_min: 22,
      ethertype: 'IPv4',
      security_group_id: group['id'],
    });
    const duplicate = await harness.request('POST', `${NET}/security-group-rules`, {
      token: bob.token,
      body: { security_group_rule: ssh },
    });
    expect(duplicate.status).toBe(409);
    expect((duplicate.body as Json)['NeutronError']).toMatchObject({
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${String(rule['id'])}.`,
    });
    const removeDefault = await harness.request('DELETE', `${NET}/security-groups/${String(group['id'])}`, {
      token: bob.token,
    });
    expect(removeDefault.status).toBe(409);
    const aliceSees = await harness.request('GET', `${NET}/security-groups/${String(group['id'])}`, {
      token: alice.token,
    });
    expect(aliceSees.status).toBe(404);
  });

  it('boots servers with a NIC on the network asked for: an address from the pool in server show, a port per server', async () => {
    const { id, subnetId } = await network(alice.token, 'servers', '10.50.0.0/24');
    const created = await boot(alice.token, 'nic', [{ uuid: id }], { min_count: 2 });
    expect(created.status).toBe(202);
    const listed = await harness.request('GET', '/v2.1/servers/detail?name=nic', {
      token: alice.token,
      microversion: '2.37',
    });
    const servers = (listed.body as { servers: Json[] }).servers;
    expect(servers).toHaveLength(2);
    const addresses = servers.map(
      (server) => (server['addresses'] as Record<string, Json[]>)['servers']?.[0]?.['addr'],
    );
    expect(addresses.sort()).toEqual(['10.50.0.3', '10.50.0.4']);
    for (const server of servers) {
      const ports = (await get(alice.token, `ports?device_id=${String(server['id'])}`))['ports'] as Json[];
      expect(ports).toHaveLength(1);
      const [port] = ports as [Json];
      expect(port).toMatchObject({ network_id: id, device_owner: 'compute:nova', status: 'ACTIVE' });
      expect(port['fixed_ips']).toEqual([
        {
          subnet_id: subnetId,
          ip_address: (server['addresses'] as Record<string, Json[]>)['servers']?.[0]?.['addr'],
        },
      ]);
      expect(
        (server['addresses'] as Record<string, Json[]>)['servers']?.[0]?.['OS-EXT-IPS-MAC:mac_addr'],
      ).toBe(port['mac_address']);
    }
  });

  it('boots on a port the user made, at a fixed IP asked for, and refuses what Nova refuses', async () => {
    const { id } = await network(bob.token, 'bob-servers', '10.60.0.0/24');
    const port = (await post(bob.token, 'ports', { port: { network_id: id, name: 'mine' } }))['port'] as Json;
    const onPort = await boot(bob.token, 'on-port', [{ port: port['id'] }]);
    expect(onPort.status).toBe(202);
    const serverId = String(((onPort.body as Json)['server'] as Json)['id']);
    const bound = (await get(bob.token, `ports/${String(port['id'])}`))['port'] as Json;
    expect(bound).toMatchObject({ device_id: serverId, name: 'mine' });
    const again = await boot(bob.token, 'same-port', [{ port: port['id'] }]);
    expect(again.status).toBe(409);

    const fixed = await boot(bob.token, 'fixed', [{ uuid: id, fixed_ip: '10.60.0.77' }]);
    expect(fixed.status).toBe(202);
    const fixedId = String(((fixed.body as Json)['server'] as Json)['id']);
    const shown = await harness.request('GET', `/v2.1/servers/${fixedId}`, {
      token: bob.token,
      microversion: '2.37',
    });
    expect(
      ((shown.body as { server: Json }).server['addresses'] as Record<string, Json[]>)['bob-servers']?.[0]?.[
        'addr'
      ],
    ).toBe('10.60.0.77');
    const taken = await boot(bob.token, 'taken', [{ uuid: id, fixed_ip: '10.60.0.77' }]);
    expect(taken.status).toBe(400);

    const head = await harness.headPosition();
    const unknown = await boot(bob.token, 'nowhere', [{ uuid: '00000000-0000-4000-8000-000000000000' }]);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      badRequest: { code: 400, message: 'Network 00000000-0000-4000-8000-000000000000 could not be found.' },
    });
    const others = await boot(alice.token, 'not-mine', [{ uuid: id }]);
    expect(others.status).toBe(400);
    expect(await harness.headPosition()).toBe(head);
  });

  it("answers a project's network quotas with usage, and refuses a create over an admin's limit", async () => {
    const dave = await harness.member('net-dave', 'net-dave');
    await network(dave.token, 'first', '10.90.0.0/24');
    const details = (await get(dave.token, `quotas/${dave.projectId}/details`))['quota'] as Json;
    expect(details['network']).toEqual({ limit: 100, used: 1, reserved: 0 });
    expect(details['subnet']).toEqual({ limit: 100, used: 1, reserved: 0 });
    const bySelf = await harness.request('PUT', `${NET}/quotas/${dave.projectId}`, {
      token: dave.token,
      body: { quota: { network: 50 } },
    });
    expect(bySelf.status).toBe(403);
    const set = await harness.request('PUT', `${NET}/quotas/${dave.projectId}`, {
      token: admin,
      body: { quota: { network: 1 } },
    });
    expect(set.status).toBe(200);
    expect((set.body as { quota: Json }).quota['network']).toBe(1);
    expect(((await get(dave.token, `quotas/${dave.projectId}`))['quota'] as Json)['network']).toBe(1);
    const over = await harness.request('POST', `${NET}/networks`, {
      token: dave.token,
      body: { network: { name: 'second' } },
    });
    expect(over.status).toBe(409);
    expect(over.body).toEqual({
      NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' },
    });
    const others = await harness.request('GET', `${NET}/quotas/${dave.projectId}`, { token: bob.token });
    expect(others.status).toBe(403);

    // Routers and floating IPs are counted and limited as well (the dashboard's overview charts them).
    await post(dave.token, 'routers', { router: { name: 'r1' } });
    const after = (await get(dave.token, `quotas/${dave.projectId}/details`))['quota'] as Json;
    expect(after['router']).toEqual({ limit: 10, used: 1, reserved: 0 });
    expect(after['floatingip']).toEqual({ limit: 50, used: 0, reserved: 0 });
    await harness.request('PUT', `${NET}/quotas/${dave.projectId}`, {
      token: admin,
      body: { quota: { router: 1 } },
    });
    const head = await harness.headPosition();
    const overRouters = await harness.request('POST', `${NET}/routers`, {
      token: dave.token,
      body: { router: { name: 'r2' } },
    });
    expect(overRouters.body).toEqual({
      NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['router'].", detail: '' },
    });
    expect(await harness.headPosition()).toBe(head);
  });

  it('routes a project network to an external one: gateway, interfaces, extra routes, and what Neutron refuses', async () => {
    const put = (token: string, path: string, body: unknown) =>
      harness.request('PUT', `${NET}/${path}`, { token, body });
    const external = (await post(admin, 'networks', { network: { name: 'ext', 'router:external': true } }))[
      'network'
    ] as Json;
    await post(admin, 'subnets', {
      subnet: { network_id: external['id'], cidr: '172.30.0.0/24', ip_version: 4, enable_dhcp: false },
    });
    // An external network is every project's to route to; its subnets stay its owner's.
    expect((await get(alice.token, `networks/${String(external['id'])}`))['network']).toMatchObject({
      'router:external': true,
    });
    expect((await get(alice.token, `subnets?network_id=${String(external['id'])}`))['subnets']).toEqual([]);
    const inside = await network(alice.token, 'routed', '10.40.0.0/24');
    const clash = await network(alice.token, 'clash', '10.40.0.0/25');

    const head = await harness.headPosition();
    const snatByMember = await harness.request('POST', `${NET}/routers`, {
      token: alice.token,
      body: {
        router: { name: 'r', external_gateway_info: { network_id: external['id'], enable_snat: false } },
      },
    });
    expect(snatByMember.status).toBe(403);
    expect(await harness.headPosition()).toBe(head);

    const router = (
      await post(alice.token, 'routers', {
        router: { name: 'edge', external_gateway_info: { network_id: external['id'] } },
      })
    )['router'] as Json;
    const gateway = router['external_gateway_info'] as Json;
    expect(gateway).toMatchObject({ network_id: external['id'], enable_snat: true });
    expect((gateway['external_fixed_ips'] as Json[])[0]?.['ip_address']).toMatch(/^172\.30\.0\.\d+$/);
    const routerPath = `routers/${String(router['id'])}`;
    // The gateway port is the external network's: the router's project does not see it.
    expect((await get(alice.token, `ports?device_id=${String(router['id'])}`))['ports']).toEqual([]);

    const added = await put(alice.token, `${routerPath}/add_router_interface`, {
      subnet_id: inside.subnetId,
    });
    expect(added.status).toBe(200);
    const portId = String((added.body as Json)['port_id']);
    const port = (await get(alice.token, `ports/${portId}`))['port'] as Json;
    expect(port).toMatchObject({
      device_id: router['id'],
      device_owner: 'network:router_interface',
      fixed_ips: [{ subnet_id: inside.subnetId, ip_address: '10.40.0.1' }],
    });

    const before = await harness.headPosition();
    const refusals = [
      [await put(alice.token, `${routerPath}/add_router_interface`, { subnet_id: clash.subnetId }), 400],
      [
        await put(alice.token, routerPath, { router: { external_gateway_info: { network_id: inside.id } } }),
        400,
      ],
      [
        await put(alice.token, routerPath, {
          router: { external_gateway_info: { network_id: router['id'] } },
        }),
        404,
      ],
      [
        await put(alice.token, routerPath, {
          router: { routes: [{ destination: '10.50.0.0/24', nexthop: '10.99.0.1' }] },
        }),
        400,
      ],
      [await harness.request('DELETE', `${NET}/${routerPath}`, { token: alice.token }), 409],
      [await harness.request('DELETE', `${NET}/ports/${portId}`, { token: alice.token }), 409],
      [await harness.request('GET', `${NET}/${routerPath}`, { token: bob.token }), 404],
    ] as const;
    expect(refusals.map(([answer]) => answer.status)).toEqual(refusals.map(([, status]) => status));
    expect((refusals[0][0].body as Json)['NeutronError']).toMatchObject({ type: 'BadRequest' });
    expect((refusals[4][0].body as Json)['NeutronError']).toMatchObject({ type: 'RouterInUse' });
    expect(await harness.headPosition()).toBe(before);

    const routed = await put(alice.token, routerPath, {
      router: { routes: [{ destination: '10.50.0.0/24', nexthop: '10.40.0.5' }] },
    });
    expect((routed.body as { router: Json }).router['routes']).toEqual([
      { destination: '10.50.0.0/24', nexthop: '10.40.0.5' },
    ]);
    const neededByRoute = await put(alice.token, `${routerPath}/remove_router_interface`, {
      subnet_id: inside.subnetId,
    });
    expect(neededByRoute.status).toBe(409);
    await put(alice.token, routerPath, { router: { routes: null } });
    const removed = await put(alice.token, `${routerPath}/remove_router_interface`, {
      subnet_id: inside.subnetId,
    });
    expect(removed.body).toMatchObject({ id: router['id'], port_id: portId, subnet_id: inside.subnetId });
    expect((await harness.request('GET', `${NET}/ports/${portId}`, { token: alice.token })).status).toBe(404);

    const unset = await put(alice.token, routerPath, { router: { external_gateway_info: {} } });
    expect((unset.body as { router: Json }).router['external_gateway_info']).toBeNull();
    expect((await get(admin, `ports?device_id=${String(router['id'])}`))['ports']).toEqual([]);
    expect((await harness.request('DELETE', `${NET}/${routerPath}`, { token: alice.token })).status).toBe(
      204,
    );
    expect((await harness.request('GET', `${NET}/${routerPath}`, { token: alice.token })).status).toBe(404);
  });

  it('points a floating IP at a port through the router that reaches it, and shows it on the server', async () => {
    const put = (token: string, path: string, body: unknown) =>
      harness.request('PUT', `${NET}/${path}`, { token, body });
    const external = (
      await post(admin, 'networks', { network: { name: 'ext-fip', 'router:external': true } })
    )['network'] as Json;
    await post(admin, 'subnets', {
      subnet: { network_id: external['id'], cidr: '172.31.0.0/24', ip_version: 4, enable_dhcp: false },
    });
    const inside = await network(alice.token, 'fip-net', '10.45.0.0/24');
    const router = (
      await post(alice.token, 'routers', {
        router: { name: 'fip-router', external_gateway_info: { network_id: external['id'] } },
      })
    )['router'] as Json;
    const routerPath = `routers/${String(router['id'])}`;
    const booted = await boot(alice.token, 'fip-server', [{ uuid: inside.id }]);
    expect(booted.status).toBe(202);
    const serverId = String((booted.body as { server: Json }).server['id']);
    const [port] = (await get(alice.token, `ports?device_id=${serverId}`))['ports'] as Json[];
    const fixedIp = String((port?.['fixed_ips'] as Json[])[0]?.['ip_address']);

    const floating = (
      await post(alice.token, 'floatingips', { floatingip: { floating_network_id: external['id'] } })
    )['floatingip'] as Json;
    expect(floating).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null });
    expect(floating['floating_ip_address']).toMatch(/^172\.31\.0\.\d+$/);
    const fipPath = `floatingips/${String(floating['id'])}`;

    const before = await harness.headPosition();
    const unreachable = await put(alice.token, fipPath, { floatingip: { port_id: port?.['id'] } });
    expect(unreachable.status).toBe(404);
    expect((unreachable.body as Json)['NeutronError']).toMatchObject({
      type: 'ExternalGatewayForFloatingIPNotFound',
    });
    const namedAddress = await harness.request('POST', `${NET}/floatingips`, {
      token: alice.token,
      body: { floatingip: { floating_network_id: external['id'], floating_ip_address: '172.31.0.50' } },
    });
    expect(namedAddress.status).toBe(403);
    const onInternal = await harness.request('POST', `${NET}/floatingips`, {
      token: alice.token,
      body: { floatingip: { floating_network_id: inside.id } },
    });
    expect(onInternal.status).toBe(400);
    expect((await harness.request('GET', `${NET}/${fipPath}`, { token: bob.token })).status).toBe(404);
    expect(await harness.headPosition()).toBe(before);

    await put(alice.token, `${routerPath}/add_router_interface`, { subnet_id: inside.subnetId });
    const associated = await put(alice.token, fipPath, { floatingip: { port_id: port?.['id'] } });
    expect((associated.body as { floatingip: Json }).floatingip).toMatchObject({
      status: 'ACTIVE',
      port_id: port?.['id'],
      fixed_ip_address: fixedIp,
      router_id: router['id'],
    });
    const server = await harness.request('GET', `/v2.1/servers/${serverId}`, { token: alice.token });
    expect(
      (server.body as { server: { addresses: Record<string, Json[]> } }).server.addresses['fip-net'],
    ).toEqual([
      expect.objectContaining({ addr: fixedIp, 'OS-EXT-IPS:type': 'fixed' }),
      expect.objectContaining({ addr: floating['floating_ip_address'], 'OS-EXT-IPS:type': 'floating' }),
    ]);

    const held = await harness.headPosition();
    const second = await harness.request('POST', `${NET}/floatingips`, {
      token: alice.token,
      body: { floatingip: { floating_network_id: external['id'], port_id: port?.['id'] } },
    });
    expect(second.status).toBe(409);
    expect(
      (await put(alice.token, `${routerPath}/remove_router_interface`, { subnet_id: inside.subnetId }))
        .status,
    ).toBe(409);
    expect((await put(alice.token, routerPath, { router: { external_gateway_info: {} } })).status).toBe(409);
    const [addressPort] = (await get(admin, `ports?device_id=${String(floating['id'])}`))['ports'] as Json[];
    expect(addressPort).toMatchObject({ device_owner: 'network:floatingip' });
    expect(
      (await harness.request('DELETE', `${NET}/ports/${String(addressPort?.['id'])}`, { token: admin }))
        .status,
    ).toBe(409);
    expect(await harness.headPosition()).toBe(held);

    const released = await put(alice.token, fipPath, { floatingip: { port_id: null } });
    expect((released.body as { floatingip: Json }).floatingip).toMatchObject({
      status: 'DOWN',
      port_id: null,
    });
    expect((await harness.request('DELETE', `${NET}/${fipPath}`, { token: alice.token })).status).toBe(204);
    expect((await get(admin, `ports?device_id=${String(floating['id'])}`))['ports']).toEqual([]);
  });

  it('attaches and detaches interfaces (os-interface): a port made or brought, given back as a delete would', async () => {
    const first = await network(alice.token, 'nic-a', '10.55.0.0/24');
    const second = await network(alice.token, 'nic-b', '10.56.0.0/24');
    const booted = await boot(alice.token, 'nics', [{ uuid: first.id }]);
    const serverId = String((booted.body as { server: Json }).server['id']);
    const path = `/v2.1/servers/${serverId}/os-interface`;
    const attach = (body: unknown) => harness.request('POST', path, { token: alice.token, body });

    const building = await harness.headPosition();
    const tooEarly = await attach({ interfaceAttachment: { net_id: second.id } });
    expect(tooEarly.status).toBe(409);
    expect(await harness.headPosition()).toBe(building);

    await registerHost(harness, 'hv-nics');
    await makeActive(harness, serverId, 'hv-nics');
    const made = await attach({
      interfaceAttachment: { net_id: second.id, fixed_ips: [{ ip_address: '10.56.0.9' }] },
    });
    expect(made.status).toBe(200);
    const attachment = (made.body as { interfaceAttachment: Json }).interfaceAttachment;
    expect(attachment).toMatchObject({
      net_id: second.id,
      fixed_ips: [{ subnet_id: second.subnetId, ip_address: '10.56.0.9' }],
    });
    const brought = (await post(alice.token, 'ports', { port: { network_id: second.id } }))['port'] as Json;
    expect((await attach({ interfaceAttachment: { port_id: brought['id'] } })).status).toBe(200);

    const listed = (await harness.request('GET', path, { token: alice.token })).body as {
      interfaceAttachments: Json[];
    };
    expect(listed.interfaceAttachments.map((nic) => nic['net_id'])).toEqual([first.id, second.id, second.id]);
    const shown = await harness.request('GET', `/v2.1/servers/${serverId}`, { token: alice.token });
    expect(Object.keys((shown.body as { server: { addresses: Json } }).server.addresses).sort()).toEqual([
      'nic-a',
      'nic-b',
    ]);

    const before = await harness.headPosition();
    const refusals = [
      [await attach({ interfaceAttachment: { port_id: brought['id'], net_id: second.id } }), 400],
      [
        await attach({
          interfaceAttachment: { net_id: second.id, fixed_ips: [{ ip_address: '10.56.0.9' }] },
        }),
        400,
      ],
      [
        await harness.request('POST', path, {
          token: bob.token,
          body: { interfaceAttachment: { net_id: second.id } },
        }),
        404,
      ],
      [await harness.request('DELETE', `${path}/${first.id}`, { token: alice.token }), 404],
    ] as const;
    expect(refusals.map(([answer]) => answer.status)).toEqual(refusals.map(([, status]) => status));
    expect(await harness.headPosition()).toBe(before);

    const madePort = String(attachment['port_id']);
    expect((await harness.request('DELETE', `${path}/${madePort}`, { token: alice.token })).status).toBe(202);
    expect(
      (await harness.request('DELETE', `${path}/${String(brought['id'])}`, { token: alice.token })).status,
    ).toBe(202);
    // The port made for the server is deleted; the one the user brought is free again.
    expect((await harness.request('GET', `${NET}/ports/${madePort}`, { token: alice.token })).status).toBe(
      404,
    );
    expect(((await get(alice.token, `ports/${String(brought['id'])}`))['port'] as Json)['device_id']).toBe(
      '',
    );
    const left = (await harness.request('GET', path, { token: alice.token })).body as {
      interfaceAttachments: Json[];
    };
    expect(left.interfaceAttachments.map((nic) => nic['net_id'])).toEqual([first.id]);
    const actions = (
      await harness.request('GET', `/v2.1/servers/${serverId}/os-instance-actions`, { token: alice.token })
    ).body as { instanceActions: Json[] };
    expect(actions.instanceActions.map((action) => action['action']).sort()).toEqual([
      'attach_interface',
      'attach_interface',
      'create',
      'detach_interface',
      'detach_interface',
    ]);
  });

  it('puts an `auto` boot on the one network the project has, and asks which when it has several', async () => {
    const carol = await harness.member('net-carol', 'net-carol');
    const none = await boot(carol.token, 'no-net', 'auto');
    expect(none.status).toBe(202);
    const { id } = await network(carol.token, 'only', '10.70.0.0/24');
    const one = await boot(carol.token, 'one-net', 'auto');
    const oneId = String(((one.body as Json)['server'] as Json)['id']);
    const ports = (await get(carol.token, `ports?device_id=${oneId}`))['ports'] as Json[];
    expect(ports.map((port) => port['network_id'])).toEqual([id]);
    await network(carol.token, 'second', '10.71.0.0/24');
    const ambiguous = await boot(carol.token, 'which', 'auto');
    expect(ambiguous.status).toBe(409);
  });
});
