/**
 * Guest networks under fire, on real libvirt over SSH with the rig's real network helper: a burst of
 * boots on a routed network goes through SIGKILL of the compute agent at its first DomainStarted.
 * Afterwards every server is ACTIVE once, every port on the network is bound to one of them (none
 * left over, none missing), no address is held twice, and the hosts serve exactly those ports: the
 * DHCP server's leases, the filter of each port and the router's interface. Then the DHCP server is
 * killed, the filters' table deleted and the router's namespace removed under the running guests,
 * and the agent's sweep makes each again from the store.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from '../support/eventually.js';
import type { InstanceEvents } from '../support/instance-events.js';
import { bootServers } from '../support/servers.js';
import { type FaultRig, type SettledSystem, startFaultRig } from '../support/settled-system.js';
import type { NimbusSystem } from '../support/system.js';

interface Port {
  readonly id: string;
  readonly device_id: string;
  readonly device_owner: string;
  readonly mac_address: string;
  readonly fixed_ips: readonly { readonly ip_address: string }[];
}

let system: NimbusSystem;
let os: OpenStackHttp;
let events: InstanceEvents;
let settled: SettledSystem;
let rig: FaultRig;
let netns: string;
let networkId = '';
let routerId = '';
const ids: string[] = [];

beforeAll(async () => {
  rig = await startFaultRig({
    rigHosts: 2,
    api: true,
    apiEnv: {
      NIMBUS_API_EXTERNAL_NETWORK_CIDR: '172.24.4.0/24',
      NIMBUS_API_QUOTA_INSTANCES: '-1',
      NIMBUS_API_QUOTA_CORES: '-1',
    },
  });
  ({ system, os, events, settled } = rig);
  netns = system.rig!.network.netns;
}, 180_000);

afterAll(() => rig.stop(), 120_000);

/** The ports of the network that are servers' NICs. */
async function serverPorts(): Promise<Port[]> {
  const reply = await os.network<{ ports: Port[] }>('GET', `/ports?network_id=${networkId}`);
  return reply.body.ports.filter((port) => port.device_owner.startsWith('compute:'));
}

/** The network's DHCP leases as the rig's DHCP server has them: `mac,address` lines, sorted. */
function leases(): string[] {
  const hosts = readFileSync(`/run/${netns}/dhcp/${networkId}/hosts`, 'utf8');
  return hosts
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(',').slice(0, 2).join(','))
    .sort();
}

/** The pid of the network's running DHCP server, or null when none runs. */
function dhcpServerPid(): string | null {
  try {
    const pid = readFileSync(`/run/${netns}/dhcp/${networkId}/pid`, 'utf8').trim();
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('dnsmasq') ? pid : null;
  } catch {
    return null;
  }
}

/** The network's filter table in the rig's namespace, or '' when there is none. */
function filterTable(): string {
  const listed = spawnSync(
    'ip',
    ['netns', 'exec', netns, 'nft', 'list', 'table', 'inet', `nimbus-${networkId.slice(0, 11)}`],
    { encoding: 'utf8' },
  );
  return listed.status === 0 ? listed.stdout : '';
}

const routerNetns = () => `${netns}-router-${routerId.slice(0, 11)}`;

function routerAddresses(): string {
  const shown = spawnSync('ip', ['-n', routerNetns(), '-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  return shown.status === 0 ? shown.stdout : '';
}

/** Whether the hosts serve exactly `ports`: a lease and a filter each, and the router's interface. */
function servesExactly(ports: readonly Port[]): boolean {
  const wanted = ports.map((port) => `${port.mac_address},${port.fixed_ips[0]!.ip_address}`).sort();
  const table = filterTable();
  return (
    dhcpServerPid() !== null &&
    JSON.stringify(leases()) === JSON.stringify(wanted) &&
    ports.every((port) => table.includes(port.fixed_ips[0]!.ip_address)) &&
    / inet 10\.88\.0\.1\/24 /.test(routerAddresses())
  );
}

describe('guest networks under faults', () => {
  it('binds every port to its server and hands no address out twice through SIGKILL of the agent', async () => {
    const network = await os.network<{ network: { id: string } }>('POST', '/networks', {
      network: { name: 'faults-net' },
    });
    networkId = network.body.network.id;
    const subnet = await os.network<{ subnet: { id: string } }>('POST', '/subnets', {
      subnet: { network_id: networkId, cidr: '10.88.0.0/24', ip_version: 4 },
    });
    const external = await os.network<{ networks: { id: string }[] }>('GET', '/networks?name=public');
    const router = await os.network<{ router: { id: string } }>('POST', '/routers', {
      router: { name: 'faults-router', external_gateway_info: { network_id: external.body.networks[0]!.id } },
    });
    routerId = router.body.router.id;
    const added = await os.network('PUT', `/routers/${routerId}/add_router_interface`, {
      subnet_id: subnet.body.subnet.id,
    });
    expect(added.status).toBe(200);

    const from = events.mark();
    const replies = await bootServers(os, 'netfault', 8, [{ uuid: networkId }]);
    expect(replies.map((reply) => reply.status)).toEqual(Array(8).fill(202));
    ids.push(...replies.map((reply) => reply.body.server.id));
    await events.next('DomainStarted', ids, { from });
    await system.compute.kill9();
    await settled.expectInFlight('SIGKILL of the compute agent', ids);
    await system.compute.restart();
    await settled.expectAllActiveAndNothingDoubled(ids);

    const ports = await serverPorts();
    expect(ports.map((port) => port.device_id).sort()).toEqual([...ids].sort());
    const addresses = ports.flatMap((port) => port.fixed_ips.map((ip) => ip.ip_address));
    expect(addresses).toHaveLength(ids.length);
    expect(new Set(addresses).size).toBe(ids.length);
    expect(addresses.every((address) => /^10\.88\.0\.\d+$/.test(address))).toBe(true);
    await eventually(
      'the hosts to serve every port of the burst',
      () => (servesExactly(ports) ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
  }, 420_000);

  it('makes the DHCP server, the filters and the router again when they are torn down under running guests', async () => {
    const ports = await serverPorts();
    const pid = readFileSync(`/run/${netns}/dhcp/${networkId}/pid`, 'utf8').trim();
    process.kill(Number(pid), 'SIGKILL');
    execFileSync('ip', [
      'netns',
      'exec',
      netns,
      'nft',
      'delete',
      'table',
      'inet',
      `nimbus-${networkId.slice(0, 11)}`,
    ]);
    execFileSync('ip', ['netns', 'del', routerNetns()]);
    // The sweep may already be at work, so what it makes is told apart from what was killed by its pid.
    await eventually(
      'the killed DHCP server to be gone',
      () => (dhcpServerPid() !== pid ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 50,
      },
    );

    await eventually(
      'the sweep to serve the network again',
      () => (servesExactly(ports) && dhcpServerPid() !== pid ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
  }, 120_000);

  it('releases every port and address with the servers', async () => {
    for (const id of ids) expect((await os.compute('DELETE', `/servers/${id}`)).status).toBe(204);
    await eventually(
      'the servers and their ports to be gone',
      async () => ((await serverPorts()).length === 0 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }, 180_000);
});
