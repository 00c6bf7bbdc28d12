/**
 * The real OpenStack clients against the whole system on a rig of real libvirt hosts: the
 * `openstack` CLI and `nova`, configured only by OS_* variables as for any cloud. Each command's
 * exit status and the fields it prints are asserted.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { OpenStackCli } from '../support/openstack-cli.js';
import { eventually } from '../support/eventually.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;
let cli: OpenStackCli;

beforeAll(async () => {
  system = await startSystem({
    rigHosts: 2,
    api: true,
    apiEnv: { NIMBUS_API_EXTERNAL_NETWORK_CIDR: '172.24.4.0/24' },
  });
  cli = new OpenStackCli(system.apiUrl!, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
}, 180_000);

afterAll(async () => {
  cli.close();
  await system.stop();
}, 120_000);

type Row = Record<string, unknown>;
const V = ['--os-compute-api-version', '2.37'];
/** `server create` of the tiny flavor with no network; the image, options and name follow. */
const CREATE_NANO = ['server', 'create', ...V, '--flavor', 'm1.nano', '--nic', 'none'];

async function statusOf(name: string): Promise<string> {
  return String((await cli.json<Row>('server', 'show', name))['status']);
}

describe('the openstack CLI and nova against Nimbus', () => {
  it('issues a token scoped to the project', async () => {
    const token = await cli.json<Row>('token', 'issue');
    expect(Object.keys(token).sort()).toEqual(['expires', 'id', 'project_id', 'user_id']);
    expect(Date.parse(String(token['expires']))).toBeGreaterThan(Date.now());
  }, 60_000);

  it('lists the flavors, including the tiny one for emulated guests', async () => {
    const flavors = await cli.json<Row[]>('flavor', 'list');
    expect(flavors).toContainEqual(expect.objectContaining({ ID: '0', Name: 'm1.nano', RAM: 64, VCPUs: 1 }));
  }, 60_000);

  it('creates an image from a file and lists it active', async () => {
    const image = await cli.json<Row>(
      'image',
      'create',
      '--file',
      system.rig!.bootImagePath,
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      'cli-boot',
    );
    // The client prints the image as created; the upload that follows makes it active.
    expect(image).toMatchObject({ name: 'cli-boot', disk_format: 'qcow2', container_format: 'bare' });
    const images = await cli.json<Row[]>('image', 'list');
    expect(images).toContainEqual({ ID: image['id'], Name: 'cli-boot', Status: 'active' });
  }, 60_000);

  it('creates a keypair', async () => {
    const keyFile = join(cli.env.HOME ?? tmpdir(), 'cli-key');
    const keypair = await cli.json<Row>('keypair', 'create', '--private-key', keyFile, 'cli-key');
    expect(readFileSync(keyFile, 'utf8')).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    expect(keypair['name']).toBe('cli-key');
    expect(String(keypair['fingerprint'])).toMatch(/^SHA256:|^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  }, 60_000);

  it('creates a server with --wait and it is ACTIVE on a host', async () => {
    const server = await cli.json<Row>(
      ...CREATE_NANO,
      '--image',
      'cli-boot',
      '--key-name',
      'cli-key',
      '--wait',
      'cli-one',
    );
    expect(server).toMatchObject({ name: 'cli-one', status: 'ACTIVE', key_name: 'cli-key' });
    expect(system.rig!.hosts.map((host) => host.name)).toContain(server['OS-EXT-SRV-ATTR:host']);
  }, 180_000);

  it('creates several servers at once with --wait', async () => {
    const result = await cli.openstack(
      ...CREATE_NANO,
      '--image',
      'cli-boot',
      '--min',
      '2',
      '--max',
      '2',
      '--wait',
      'cli-many',
    );
    expect(result.status).toBe(0);
    const servers = await cli.json<Row[]>('server', 'list', '--name', '^cli-many');
    expect(servers.map((server) => server['Status'])).toEqual(['ACTIVE', 'ACTIVE']);
    expect(servers.map((server) => String(server['Name'])).sort()).toEqual(['cli-many-1', 'cli-many-2']);
  }, 240_000);

  it('lists and shows servers', async () => {
    const servers = await cli.json<Row[]>('server', 'list');
    expect(servers).toContainEqual(
      expect.objectContaining({ Name: 'cli-one', Status: 'ACTIVE', Image: 'cli-boot', Flavor: 'm1.nano' }),
    );
    const shown = await cli.json<Row>('server', 'show', 'cli-one');
    expect(shown).toMatchObject({
      name: 'cli-one',
      status: 'ACTIVE',
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
    });
  }, 60_000);

  it('stops, starts and reboots a server', async () => {
    expect((await cli.openstack('server', 'stop', 'cli-one')).status).toBe(0);
    await eventually(
      'cli-one SHUTOFF',
      async () => ((await statusOf('cli-one')) === 'SHUTOFF' ? true : undefined),
      60_000,
    );
    expect((await cli.openstack('server', 'start', 'cli-one')).status).toBe(0);
    await eventually(
      'cli-one ACTIVE',
      async () => ((await statusOf('cli-one')) === 'ACTIVE' ? true : undefined),
      60_000,
    );
    expect((await cli.openstack('server', 'reboot', '--hard', '--wait', 'cli-one')).status).toBe(0);
    expect(await statusOf('cli-one')).toBe('ACTIVE');
  }, 180_000);

  it('lists the server events', async () => {
    const events = await cli.json<Row[]>('server', 'event', 'list', 'cli-one');
    expect(events.map((event) => event['Action']).sort()).toEqual(['create', 'reboot', 'start', 'stop']);
  }, 60_000);

  it('shows the console log with the line the boot image prints', async () => {
    const log = await eventually(
      'the boot banner in the console log',
      async () => {
        const result = await cli.openstack('console', 'log', 'show', 'cli-one');
        return result.status === 0 && result.stdout.includes('Nimbus guest booted')
          ? result.stdout
          : undefined;
      },
      60_000,
    );
    expect(log).toContain('Nimbus guest booted');
  }, 90_000);

  it('lists the hypervisors and the compute services, up', async () => {
    const hypervisors = await cli.json<Row[]>('hypervisor', 'list');
    expect(hypervisors.map((row) => row['Hypervisor Hostname']).sort()).toEqual(
      system.rig!.hosts.map((host) => host.name).sort(),
    );
    expect(hypervisors.every((row) => row['State'] === 'up' && row['Hypervisor Type'] === 'QEMU')).toBe(true);
    const services = await cli.json<Row[]>('compute', 'service', 'list');
    expect(
      services
        .filter((row) => row['Binary'] === 'nova-compute')
        .map((row) => [row['Host'], row['State'], row['Status']]),
    ).toEqual(expect.arrayContaining(system.rig!.hosts.map((host) => [host.name, 'up', 'enabled'])));
  }, 60_000);

  it('answers nova too', async () => {
    const list = await cli.nova('list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/cli-one\s*\|\s*ACTIVE/);
    const hypervisors = await cli.nova('hypervisor-list');
    expect(hypervisors.status).toBe(0);
    for (const host of system.rig!.hosts) expect(hypervisors.stdout).toContain(host.name);
  }, 60_000);

  it('deletes servers with --wait', async () => {
    const result = await cli.openstack('server', 'delete', '--wait', 'cli-one', 'cli-many-1', 'cli-many-2');
    expect(result.status).toBe(0);
    expect(await cli.json<Row[]>('server', 'list')).toEqual([]);
  }, 180_000);

  it("sets and shows a project's quota by the project's name, and a boot over it is refused", async () => {
    expect((await cli.openstack('quota', 'set', '--instances', '0', 'admin')).status).toBe(0);
    expect(await cli.json<Row>('quota', 'show', 'admin')).toMatchObject({
      project_name: 'admin',
      instances: 0,
    });
    const refused = await cli.openstack(...CREATE_NANO, '--image', 'nimbus-boot', 'over-quota');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'Quota exceeded for instances: Requested 1, but already used 0 of 0 instances (HTTP 403)',
    );
    expect((await cli.openstack('quota', 'set', '--instances', '10', 'admin')).status).toBe(0);
  }, 60_000);

  it('creates a network, a subnet and a router to the external network, boots servers on the network with their addresses, ports, a floating IP and a second NIC, and gives everything back on delete', async () => {
    const network = await cli.json<Row>('network', 'create', 'cli-net');
    expect(network).toMatchObject({
      name: 'cli-net',
      status: 'ACTIVE',
      shared: false,
      'router:external': false,
    });
    const subnet = await cli.json<Row>(
      'subnet',
      'create',
      '--network',
      'cli-net',
      '--subnet-range',
      '10.80.0.0/24',
      'cli-subnet',
    );
    expect(subnet).toMatchObject({
      cidr: '10.80.0.0/24',
      gateway_ip: '10.80.0.1',
      network_id: network['id'],
    });

    const router = await cli.json<Row>('router', 'create', 'cli-router');
    expect(router).toMatchObject({ name: 'cli-router', status: 'ACTIVE', external_gateway_info: null });
    expect((await cli.openstack('router', 'set', '--external-gateway', 'public', 'cli-router')).status).toBe(
      0,
    );
    expect((await cli.openstack('router', 'add', 'subnet', 'cli-router', 'cli-subnet')).status).toBe(0);
    const routed = await cli.json<Row>('router', 'show', 'cli-router');
    const gateway = routed['external_gateway_info'] as {
      network_id: string;
      enable_snat: boolean;
      external_fixed_ips: { ip_address: string }[];
    };
    expect(gateway).toMatchObject({ enable_snat: true });
    expect(gateway.external_fixed_ips[0]?.ip_address).toMatch(/^172\.24\.4\.\d+$/);
    expect(routed['interfaces_info']).toEqual([
      expect.objectContaining({ subnet_id: subnet['id'], ip_address: '10.80.0.1' }),
    ]);

    const created = await cli.openstack(
      ...['server', 'create', ...V, '--flavor', 'm1.nano', '--image', 'cli-boot', '--network', 'cli-net'],
      ...['--min', '2', '--max', '2', '--wait', 'cli-net'],
    );
    expect(created.status).toBe(0);
    const servers = await cli.json<Row[]>('server', 'list', '--name', '^cli-net-');
    expect(servers.map((server) => server['Status'])).toEqual(['ACTIVE', 'ACTIVE']);
    const addresses: string[] = [];
    for (const server of servers) {
      const shown = await cli.json<Row>('server', 'show', String(server['ID']));
      const [address, ...more] = (shown['addresses'] as Record<string, string[]>)['cli-net'] ?? [];
      expect(more).toEqual([]);
      expect(address).toMatch(/^10\.80\.0\.([2-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/);
      const ports = await cli.json<Row[]>('port', 'list', '--server', String(server['ID']));
      expect(ports).toHaveLength(1);
      expect(ports[0]?.['Fixed IP Addresses']).toEqual([{ subnet_id: subnet['id'], ip_address: address }]);
      expect(ports[0]?.['Status']).toBe('ACTIVE');
      addresses.push(String(address));
    }
    expect(new Set(addresses).size).toBe(2);

    const floating = await cli.json<Row>('floating', 'ip', 'create', 'public');
    const floatingAddress = String(floating['floating_ip_address']);
    expect(floatingAddress).toMatch(/^172\.24\.4\.\d+$/);
    expect(
      (await cli.openstack('server', 'add', 'floating', 'ip', String(servers[0]?.['ID']), floatingAddress))
        .status,
    ).toBe(0);
    const withFloating = await cli.json<Row>('server', 'show', String(servers[0]?.['ID']));
    expect((withFloating['addresses'] as Record<string, string[]>)['cli-net']).toEqual([
      addresses[0],
      floatingAddress,
    ]);
    expect((await cli.openstack('floating', 'ip', 'delete', floatingAddress)).status).toBe(0);

    // A second NIC attached and detached again (os-interface).
    const first = String(servers[0]?.['ID']);
    expect((await cli.openstack('server', 'add', 'network', first, 'cli-net')).status).toBe(0);
    const nics = await cli.json<Row[]>('port', 'list', '--server', first);
    expect(nics).toHaveLength(2);
    const added = nics.find(
      (nic) => !JSON.stringify(nic['Fixed IP Addresses']).includes(String(addresses[0])),
    );
    expect((await cli.openstack('server', 'remove', 'port', first, String(added?.['ID']))).status).toBe(0);

    expect((await cli.openstack('network', 'delete', 'cli-net')).status).toBe(1);
    expect((await cli.openstack('server', 'delete', '--wait', 'cli-net-1', 'cli-net-2')).status).toBe(0);
    await eventually(
      "the servers' ports released",
      async () =>
        (await cli.json<Row[]>('port', 'list', '--network', 'cli-net', '--device-owner', 'compute:nova'))
          .length === 0
          ? true
          : undefined,
      60_000,
    );
    expect((await cli.openstack('router', 'remove', 'subnet', 'cli-router', 'cli-subnet')).status).toBe(0);
    expect((await cli.openstack('router', 'delete', 'cli-router')).status).toBe(0);
    expect((await cli.openstack('subnet', 'delete', 'cli-subnet')).status).toBe(0);
    expect((await cli.openstack('network', 'delete', 'cli-net')).status).toBe(0);
    // What is left is the external network the router's gateway was on.
    expect((await cli.json<Row[]>('network', 'list')).map((row) => [row['Name'], row['ID']])).toEqual([
      ['public', gateway.network_id],
    ]);
  }, 300_000);
});
