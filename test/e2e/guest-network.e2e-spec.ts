/**
 * Guest networking end to end with the real `openstack` CLI, on a rig of two real libvirt hosts: a
 * network and a subnet are made, two servers boot the rig's guest image on it, and each guest takes
 * its address by DHCP and its host name and key from the metadata service, as its console log says;
 * both answer ping from the network's DHCP namespace, a server on another network is not reached, and
 * deleting the servers takes their ports, taps and the network's DHCP server away. Every guest bridge,
 * tap and address is in the rig's namespace: the machine's own namespace gains no address and no tap.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseGuestConsole, type GuestConsole } from '../../deploy/rig/guest-image.js';
import { eventually } from '../support/eventually.js';
import { OpenStackCli } from '../support/openstack-cli.js';
import { ADMIN_PASSWORD, type NimbusSystem, startSystem } from '../support/system.js';

type Row = Record<string, unknown>;

let system: NimbusSystem;
let cli: OpenStackCli;
let netns: string;
let rootAddressesBefore: string;

/** Every address of the machine's own namespace, to show that none was added. */
const rootAddresses = (): string =>
  JSON.stringify(
    (
      JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as {
        ifname: string;
        addr_info: { local: string }[];
      }[]
    )
      .map((link) => [link.ifname, link.addr_info.map((entry) => entry.local).sort()])
      .sort(),
  );

const linkNames = (ns?: string): string[] =>
  (
    JSON.parse(
      execFileSync('ip', [...(ns ? ['-n', ns] : []), '-j', 'link', 'show'], { encoding: 'utf8' }),
    ) as { ifname: string }[]
  ).map((link) => link.ifname);

function ping(ns: string, address: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', address]).status === 0;
}

async function consoleOf(name: string): Promise<GuestConsole> {
  const result = await cli.openstack('console', 'log', 'show', name);
  return parseGuestConsole(result.stdout);
}

beforeAll(async () => {
  rootAddressesBefore = rootAddresses();
  system = await startSystem({ rigHosts: 2, api: true });
  netns = system.rig!.network.netns;
  cli = new OpenStackCli(system.apiUrl!, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
  await cli.json(
    'image',
    'create',
    '--file',
    system.rig!.guestImagePath,
    '--disk-format',
    'qcow2',
    '--container-format',
    'bare',
    '--public',
    'nimbus-guest',
  );
  const keyDir = mkdtempSync(join(tmpdir(), 'nimbus-e2e-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'key')]);
  await cli.json('keypair', 'create', '--public-key', join(keyDir, 'key.pub'), 'e2e-key');
  rmSync(keyDir, { recursive: true, force: true });
}, 240_000);

afterAll(async () => {
  cli.close();
  await system.stop();
}, 180_000);

describe('guest networks on the rig', () => {
  const servers: Record<string, { id: string; address: string; console?: GuestConsole }> = {};
  let networkId = '';

  it('boots two servers on a new network, each ACTIVE with an address from its pool', async () => {
    networkId = String((await cli.json<Row>('network', 'create', 'e2e-net'))['id']);
    await cli.json('subnet', 'create', '--network', 'e2e-net', '--subnet-range', '10.77.0.0/24', 'e2e-sub');
    await Promise.all(
      ['g1', 'g2'].map(async (name) => {
        const server = await cli.json<Row>(
          'server',
          'create',
          '--flavor',
          'm1.micro',
          '--image',
          'nimbus-guest',
          '--network',
          'e2e-net',
          '--key-name',
          'e2e-key',
          '--wait',
          name,
        );
        expect(server['status']).toBe('ACTIVE');
        const ports = await cli.json<Row[]>('port', 'list', '--server', name);
        expect(ports).toHaveLength(1);
        const fixed = ports[0]!['Fixed IP Addresses'] as { ip_address: string }[];
        const address = fixed[0]!.ip_address;
        expect(address).toMatch(/^10\.77\.0\.\d+$/);
        const shown = await cli.json<Row>('server', 'show', name);
        expect(shown['addresses']).toEqual({ 'e2e-net': [address] });
        servers[name] = { id: String(server['id']), address };
      }),
    );
    expect(servers['g1']!.address).not.toBe(servers['g2']!.address);
  }, 300_000);

  it('gives each guest its address by DHCP and its host name from the metadata service', async () => {
    for (const name of ['g1', 'g2']) {
      const seen = await eventually(
        `${name}'s guest to print its network and metadata`,
        async () => {
          const console = await consoleOf(name);
          return console.ready ? console : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 2_000 },
      );
      expect(seen.address).toMatchObject({ ip: servers[name]!.address, prefix: 24, gateway: '10.77.0.1' });
      expect(seen.metadata).toBe('available');
      expect(seen.hostname).toBe(name);
      expect(seen.publicKeys).toEqual(['e2e-key']);
      servers[name]!.console = seen;
    }
  }, 400_000);

  it('lets ping reach the guests only while their security group has an ICMP rule', async () => {
    const dhcpNetns = `${netns}-dhcp-${networkId.slice(0, 11)}`;
    const addresses = ['g1', 'g2'].map((name) => servers[name]!.address);
    const allAnswer = (expected: boolean, what: string) =>
      eventually(
        what,
        () => (addresses.every((address) => ping(dhcpNetns, address) === expected) ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 500,
        },
      );
    // Neutron's default group lets in only its own members: the network's DHCP namespace is not one.
    expect(addresses.some((address) => ping(dhcpNetns, address))).toBe(false);
    const rule = await cli.json<Row>('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default');
    await allAnswer(true, 'both guests to answer ping once ICMP is allowed');
    expect((await cli.openstack('security', 'group', 'rule', 'delete', String(rule['id']))).status).toBe(0);
    await allAnswer(false, 'the pings to stop once the ICMP rule is gone');
    await cli.json('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default');
    await allAnswer(true, 'the pings to come back with the rule');
  }, 180_000);

  it('keeps a guest on another network out of reach', async () => {
    const dhcpNetns = `${netns}-dhcp-${networkId.slice(0, 11)}`;
    await cli.json('network', 'create', 'e2e-other');
    await cli.json(
      'subnet',
      'create',
      '--network',
      'e2e-other',
      '--subnet-range',
      '10.78.0.0/24',
      'e2e-other-sub',
    );
    const other = await cli.json<Row>(
      'server',
      'create',
      '--flavor',
      'm1.nano',
      '--image',
      'nimbus-boot',
      '--network',
      'e2e-other',
      '--wait',
      'g3',
    );
    const otherAddress = Object.values(other['addresses'] as Record<string, string[]>)[0]![0]!;
    expect(ping(dhcpNetns, otherAddress)).toBe(false);
  }, 300_000);

  it("keeps every guest bridge and tap out of the machine's own namespace, which gains no address", () => {
    const inRig = linkNames(netns);
    expect(inRig).toContain(`brq${networkId.slice(0, 11)}`);
    expect(inRig.filter((name) => name.startsWith('tap')).length).toBeGreaterThanOrEqual(3);
    expect(linkNames().filter((name) => /^(tap|brq)/.test(name))).toEqual([]);
    expect(rootAddresses()).toBe(rootAddressesBefore);
  });

  it('takes the ports, the taps and the DHCP server away with the servers', async () => {
    const del = await cli.openstack('server', 'delete', '--wait', 'g1', 'g2', 'g3');
    expect(del.status).toBe(0);
    const ports = await cli.json<Row[]>('port', 'list', '--network', 'e2e-net');
    expect(ports.map((port) => port['Fixed IP Addresses'])).toEqual([
      [{ subnet_id: expect.any(String), ip_address: '10.77.0.2' }],
    ]);
    await eventually(
      'the taps and bridges of the deleted servers to go',
      () => (linkNames(netns).some((name) => /^(tap|brq)/.test(name)) ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(namespaces).not.toContain(`${netns}-dhcp-`);
  }, 180_000);
});
