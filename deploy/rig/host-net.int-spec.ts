// The rig's network helper against the real kernel: taps and bridges in a namespace made for the test,
// run as root the way sudo runs it (SUDO_UID names the caller). Every namespace and tap it makes is
// removed afterwards.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { findRigFile } from './files.js';
import { networkPaths, removeRigNetwork, rigNetnsName } from './host-network.js';

const INSTANCE = '6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10';
const OTHER_INSTANCE = '7a2d3b5f-4c8e-4d0f-9b32-1e6f0c4d8e21';
const PORT_A = '5e0d8f2b-9c1a-4b3e-8f70-1a2b3c4d5e6f';
const PORT_B = '0b0c4a4e-3b7d-4c9e-8a21-0d5e9b3f7c10';
const NETWORK = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const TAP_A = 'tap5e0d8f2b-9c';
const TAP_B = 'tap0b0c4a4e-3b';
const BRIDGE = 'brq9a8b7c6d-5e';
const CALLER = '4242';
const STRANGER = '4343';
const CALLER_UID = 4242;

interface Link {
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly master?: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: { readonly user?: number } };
}

const prefix = `t${randomBytes(3).toString('hex')}`;
const netns = rigNetnsName(prefix);
let stateDir = '';
let dir = '';
let helper = '';
let guestNetns = '';

function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function links(where: 'root' | 'netns'): Link[] {
  const args = ['-j', '-d', 'link', 'show'];
  return JSON.parse(where === 'root' ? ip(...args) : ip('-n', netns, ...args)) as Link[];
}

/** Which links exist where, on which bridge, up or not, made for whom: what the helper changes. */
function layout(): string {
  const view = (link: Link) =>
    [link.ifname, link.master ?? '-', link.flags.includes('UP'), link.linkinfo?.info_data?.user ?? '-'].join(
      ' ',
    );
  return JSON.stringify([links('root').map(view), links('netns').map(view)]);
}

const find = (where: 'root' | 'netns', name: string) => links(where).find((link) => link.ifname === name);

/** Whether a ping from one namespace is answered within two seconds (a loaded machine may drop the first). */
const reaches = (from: string, to: string) =>
  spawnSync('ip', ['netns', 'exec', from, 'ping', '-c', '1', '-i', '0.2', '-w', '2', to]).status === 0;

function helperRun(uid: string | undefined, ...args: string[]) {
  return helperWith(uid, '', ...args);
}

function helperWith(uid: string | undefined, input: string, ...args: string[]) {
  const env = uid === undefined ? { PATH: '/usr/bin:/bin' } : { PATH: '/usr/bin:/bin', SUDO_UID: uid };
  return spawnSync('python3', ['-I', helper, ...args], { encoding: 'utf8', env, input });
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'nimbus-host-net-'));
  const paths = networkPaths(stateDir, prefix);
  dir = paths.dir;
  helper = paths.helper;
  await mkdir(dir);
  await copyFile(await findRigFile('host-net.py', import.meta.dirname), helper);
  await writeFile(paths.netnsFile, `${netns}\n`);
  ip('netns', 'add', netns);
});

afterAll(async () => {
  if (guestNetns !== '') spawnSync('ip', ['netns', 'del', guestNetns]);
  await removeRigNetwork('ip', stateDir, prefix);
  await rm(stateDir, { recursive: true, force: true });
});

describe('the rig network helper', () => {
  it("prepares a port's tap in the machine's namespace, owned by the caller, for QEMU to open", () => {
    const prepared = helperRun(CALLER, 'prepare', INSTANCE, PORT_A);
    expect(prepared.stderr).toBe('');
    expect(prepared.status).toBe(0);
    const tap = find('root', TAP_A);
    expect(tap?.linkinfo?.info_kind).toBe('tun');
    expect(tap?.linkinfo?.info_data?.user).toBe(CALLER_UID);
    expect(find('netns', TAP_A)).toBeUndefined();
  });

  it("plugs it into the rig's namespace, on the network's bridge, and leaves the machine's namespace without it", () => {
    expect(helperRun(CALLER, 'plug', PORT_A, NETWORK).status).toBe(0);
    expect(find('root', TAP_A)).toBeUndefined();
    expect(find('netns', TAP_A)).toMatchObject({ master: BRIDGE, flags: expect.arrayContaining(['UP']) });
    expect(find('netns', BRIDGE)?.linkinfo?.info_kind).toBe('bridge');
    expect(find('root', BRIDGE)).toBeUndefined();
    // Plugging again changes nothing.
    expect(helperRun(CALLER, 'plug', PORT_A, NETWORK).status).toBe(0);
    expect(find('netns', TAP_A)?.master).toBe(BRIDGE);
  });

  it('puts a second port of the same network on the same bridge', () => {
    expect(helperRun(CALLER, 'prepare', OTHER_INSTANCE, PORT_B).status).toBe(0);
    expect(helperRun(CALLER, 'plug', PORT_B, NETWORK).status).toBe(0);
    const onBridge = links('netns').filter((link) => link.master === BRIDGE);
    expect(onBridge.map((link) => link.ifname).sort()).toEqual([TAP_B, TAP_A].sort());
  });

  it.each([
    ['a tap another host made', [STRANGER, 'plug', PORT_A, NETWORK], /was not prepared by this host/],
    ['a port claimed for another instance', [CALLER, 'prepare', OTHER_INSTANCE, PORT_A], /another instance/],
    ['shell in an id', [CALLER, 'prepare', `${INSTANCE}; ip link del lo`, PORT_A], /lowercase UUID/],
    ['an uppercase id', [CALLER, 'plug', PORT_A, NETWORK.toUpperCase()], /lowercase UUID/],
    ['a missing argument', [CALLER, 'plug', PORT_A], /usage/],
    ['an unknown verb', [CALLER, 'exec', '/bin/sh'], /unknown verb/],
    ['a caller that did not come through sudo', [undefined, 'unplug', INSTANCE], /through sudo/],
  ])('refuses %s with status 2 and changes nothing', (_what, [uid, ...args], message) => {
    const before = layout();
    const result = helperRun(uid, ...(args as string[]));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(layout()).toBe(before);
  });

  it('makes a plugged tap anew where QEMU opens it when the guest starts again', () => {
    expect(helperRun(CALLER, 'prepare', INSTANCE, PORT_A).status).toBe(0);
    expect(find('netns', TAP_A)).toBeUndefined();
    expect(find('root', TAP_A)?.linkinfo?.info_data?.user).toBe(CALLER_UID);
    expect(helperRun(CALLER, 'plug', PORT_A, NETWORK).status).toBe(0);
    expect(find('netns', TAP_A)?.master).toBe(BRIDGE);
  });

  it("unplugs only the instance's taps, and removes the bridge once no port is left on it", () => {
    expect(helperRun(STRANGER, 'unplug', INSTANCE).status).toBe(0);
    expect(find('netns', TAP_A)).toBeDefined(); // not the stranger's to remove
    expect(helperRun(CALLER, 'unplug', INSTANCE).status).toBe(0);
    expect(find('netns', TAP_A)).toBeUndefined();
    expect(find('netns', BRIDGE)).toBeDefined();
    expect(helperRun(CALLER, 'unplug', OTHER_INSTANCE).status).toBe(0);
    expect(find('netns', TAP_B)).toBeUndefined();
    expect(find('netns', BRIDGE)).toBeUndefined();
    expect(helperRun(CALLER, 'unplug', OTHER_INSTANCE).status).toBe(0);
  });
});

describe("the rig network helper's DHCP server", () => {
  const DHCP_PORT = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
  const GUEST_MAC = 'fa:16:3e:12:34:56';
  const config = (
    revision: number,
    hosts: { mac: string; ip: string; hostname: string }[],
    filters: object[] = [],
  ) =>
    JSON.stringify({
      revision,
      port: { id: DHCP_PORT, mac: 'fa:16:3e:00:00:02' },
      subnets: [
        {
          cidr: '10.20.0.0/24',
          address: '10.20.0.2',
          gateway: '10.20.0.1',
          dns: ['10.20.0.53'],
          routes: [{ destination: '169.254.169.254/32', nexthop: '10.20.0.2' }],
        },
      ],
      hosts,
      filters,
    });

  /** A namespace standing in for a guest: a veth on the network's bridge, asking for a lease by DHCP. */
  function leaseFor(mac: string): Record<string, string> | undefined {
    guestNetns = `${netns}-guest`;
    spawnSync('ip', ['netns', 'del', guestNetns]);
    ip('netns', 'add', guestNetns);
    spawnSync('ip', ['-n', netns, 'link', 'del', 'dev', 'guest0']);
    ip('-n', netns, 'link', 'add', 'guest0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guestNetns);
    ip('-n', netns, 'link', 'set', 'dev', 'guest0', 'master', BRIDGE, 'up');
    ip('-n', guestNetns, 'link', 'set', 'dev', 'eth0', 'address', mac, 'up');
    // udhcpc runs its script with the lease in the environment; this one prints what the guest would use.
    const script = path.join(dir, 'lease.sh');
    spawnSync('sh', ['-c', `printf '%s\\n' '#!/bin/sh' 'env' > ${script}; chmod 755 ${script}`]);
    const client = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        guestNetns,
        'busybox',
        'udhcpc',
        '-i',
        'eth0',
        '-n',
        '-q',
        '-f',
        '-t',
        '4',
        '-T',
        '1',
        '-O',
        'staticroutes',
        '-s',
        script,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    const lease = Object.fromEntries(
      client.stdout
        .split('\n')
        .filter((line) => /^(ip|subnet|router|dns|serverid|staticroutes)=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return lease['ip'] === undefined ? undefined : lease;
  }

  it("answers a guest's MAC with exactly its port's address, the gateway, DNS and the routes", () => {
    expect(helperRun(CALLER, 'prepare', INSTANCE, PORT_A).status).toBe(0);
    expect(helperRun(CALLER, 'plug', PORT_A, NETWORK).status).toBe(0);
    const set = helperWith(
      CALLER,
      config(3, [{ mac: GUEST_MAC, ip: '10.20.0.7', hostname: 'host-10-20-0-7' }]),
      'dhcp',
      NETWORK,
    );
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(leaseFor(GUEST_MAC)).toEqual({
      ip: '10.20.0.7',
      subnet: '255.255.255.0',
      router: '10.20.0.1',
      dns: '10.20.0.53',
      serverid: '10.20.0.2',
      staticroutes: '169.254.169.254/32 10.20.0.2 0.0.0.0/0 10.20.0.1',
    });
    expect(leaseFor('fa:16:3e:99:99:99')).toBeUndefined(); // no port, no address
  });

  it('takes a newer revision and leaves an older one unapplied', () => {
    const moved = config(4, [{ mac: GUEST_MAC, ip: '10.20.0.8', hostname: 'host-10-20-0-8' }]);
    const taken = helperWith(CALLER, moved, 'dhcp', NETWORK);
    expect(taken.stderr).toBe('');
    expect(taken.status).toBe(0);
    const stale = helperWith(
      CALLER,
      config(2, [{ mac: GUEST_MAC, ip: '10.20.0.9', hostname: 'x' }]),
      'dhcp',
      NETWORK,
    );
    expect(stale.status).toBe(0);
    expect(stale.stderr).toMatch(/newer revision/);
    expect(leaseFor(GUEST_MAC)?.['ip']).toBe('10.20.0.8');
  });

  it("enforces a port's filter statefully: ingress only as its rules say, replies to what it sent", () => {
    const guest = '10.20.0.8';
    ip('-n', guestNetns, 'addr', 'add', `${guest}/24`, 'dev', 'eth0');
    const dhcpNetns = `${netns}-dhcp-${NETWORK.slice(0, 11)}`;
    const anyOut = { protocol: null, min: null, max: null, remote: ['0.0.0.0/0'] };
    const hosts = [{ mac: GUEST_MAC, ip: guest, hostname: 'host-10-20-0-8' }];
    const withIngress = (revision: number, ingress: object[]) =>
      helperWith(
        CALLER,
        config(revision, hosts, [{ port: PORT_A, mac: GUEST_MAC, ips: [guest], ingress, egress: [anyOut] }]),
        'dhcp',
        NETWORK,
      );

    expect(withIngress(5, []).status).toBe(0);
    expect(reaches(dhcpNetns, guest)).toBe(false);
    expect(reaches(guestNetns, '10.20.0.2')).toBe(true); // its own ping goes out, and the reply comes back
    const icmpFrom = (remote: string) => [{ protocol: 'icmp', min: null, max: null, remote: [remote] }];
    expect(withIngress(6, icmpFrom('10.20.0.0/24')).status).toBe(0);
    expect(reaches(dhcpNetns, guest)).toBe(true);
    expect(withIngress(7, icmpFrom('192.0.2.0/24')).status).toBe(0);
    expect(reaches(dhcpNetns, guest)).toBe(false);
    expect(withIngress(8, [{ protocol: 'icmp', min: 8, max: 0, remote: ['0.0.0.0/0'] }]).status).toBe(0);
    expect(reaches(dhcpNetns, guest)).toBe(true); // echo request, code 0
  });

  it('lets a guest send from its own MAC and address only', () => {
    // The stand-in's side of the bridge becomes a port's tap, as a guest's NIC is.
    const port = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d';
    const tap = `tap${port.slice(0, 11)}`;
    ip('-n', netns, 'link', 'set', 'dev', 'guest0', 'down');
    ip('-n', netns, 'link', 'set', 'dev', 'guest0', 'name', tap);
    ip('-n', netns, 'link', 'set', 'dev', tap, 'master', BRIDGE, 'up');
    const anyWay = [{ protocol: null, min: null, max: null, remote: ['0.0.0.0/0'] }];
    const filter = { port, mac: GUEST_MAC, ips: ['10.20.0.8'], ingress: anyWay, egress: anyWay };
    const hosts = [{ mac: GUEST_MAC, ip: '10.20.0.8', hostname: 'host-10-20-0-8' }];
    expect(helperWith(CALLER, config(10, hosts, [filter]), 'dhcp', NETWORK).status).toBe(0);
    const readdress = (from: string, to: string) => {
      ip('-n', guestNetns, 'addr', 'del', from, 'dev', 'eth0');
      ip('-n', guestNetns, 'addr', 'add', to, 'dev', 'eth0');
    };

    expect(reaches(guestNetns, '10.20.0.2')).toBe(true);
    readdress('10.20.0.8/24', '10.20.0.9/24'); // an address that is not its port's
    expect(reaches(guestNetns, '10.20.0.2')).toBe(false);
    readdress('10.20.0.9/24', '10.20.0.8/24');
    expect(reaches(guestNetns, '10.20.0.2')).toBe(true);
    ip('-n', guestNetns, 'link', 'set', 'dev', 'eth0', 'address', 'fa:16:3e:66:66:66'); // not its MAC
    expect(reaches(guestNetns, '10.20.0.2')).toBe(false);
    ip('-n', guestNetns, 'link', 'set', 'dev', 'eth0', 'address', GUEST_MAC);
    expect(reaches(guestNetns, '10.20.0.2')).toBe(true);
  });

  it.each([
    [
      'a host outside every subnet',
      { mac: GUEST_MAC, ip: '10.99.0.7', hostname: 'a' },
      /in none of the subnets/,
    ],
    [
      'a hostname that is not a DNS label',
      { mac: GUEST_MAC, ip: '10.20.0.7', hostname: 'a\ndhcp-script=/bin/sh' },
      /DNS label/,
    ],
    ['a MAC with an option after it', { mac: `${GUEST_MAC},set:x`, ip: '10.20.0.7', hostname: 'a' }, /MAC/],
  ])('refuses %s with status 2 and keeps the server as it was', (_what, host, message) => {
    const before = readFileSync(`/run/${netns}/dhcp/${NETWORK}/hosts`, 'utf8');
    const result = helperWith(CALLER, config(9, [host]), 'dhcp', NETWORK);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(readFileSync(`/run/${netns}/dhcp/${NETWORK}/hosts`, 'utf8')).toBe(before);
  });

  it("refuses a DHCP port that would take a guest's tap, and leaves the guest on its bridge", () => {
    const takeover = JSON.parse(config(20, [])) as Record<string, unknown>;
    const result = helperWith(
      STRANGER,
      JSON.stringify({ ...takeover, port: { id: PORT_A, mac: 'fa:16:3e:00:00:09' } }),
      'dhcp',
      NETWORK,
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not this network's DHCP port/);
    expect(find('netns', TAP_A)?.master).toBe(BRIDGE);
  });

  it("leaves another network's DHCP alone when an unplug empties no bridge of it", () => {
    const other = '2b3c4d5e-6f70-4a81-92a3-b4c5d6e7f809';
    const served = JSON.stringify({
      revision: 1,
      port: { id: '4d5e6f70-8192-4a3b-8c4d-5e6f70819203', mac: 'fa:16:3e:00:00:07' },
      subnets: [{ cidr: '10.40.0.0/24', address: '10.40.0.2', gateway: null, dns: [], routes: [] }],
      hosts: [],
      filters: [],
    });
    expect(helperWith(CALLER, served, 'dhcp', other).status).toBe(0);
    expect(helperRun(CALLER, 'unplug', OTHER_INSTANCE).status).toBe(0);
    expect(ip('netns', 'list')).toContain(`${netns}-dhcp-${other.slice(0, 11)}`);
  });

  it("stops the server, its namespace and the bridge when the network's last guest is unplugged", () => {
    spawnSync('ip', ['netns', 'del', guestNetns]);
    guestNetns = '';
    const dhcpNetns = `${netns}-dhcp-${NETWORK.slice(0, 11)}`;
    expect(ip('netns', 'list')).toContain(dhcpNetns);
    expect(helperRun(CALLER, 'unplug', INSTANCE).status).toBe(0);
    expect(ip('netns', 'list')).not.toContain(dhcpNetns);
    expect(find('netns', BRIDGE)).toBeUndefined();
    expect(spawnSync('pgrep', ['-f', `dhcp/${NETWORK}/pid`]).status).toBe(1);
    // A refresh (the agent's sweep) does not make again what the unplug tore down.
    expect(helperWith(CALLER, config(40, []), 'dhcp', NETWORK, '--if-wired').status).toBe(0);
    expect(ip('netns', 'list')).not.toContain(dhcpNetns);
    expect(find('netns', BRIDGE)).toBeUndefined();
    expect(helperWith(CALLER, config(40, []), 'dhcp', NETWORK, '--now').status).toBe(2);
  });
});

describe("the rig network helper's routers", () => {
  const ROUTER = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
  const LAN = 'c0ffee00-1111-4222-8333-444455556666';
  const EXTERNAL = 'e0e0e0e0-1111-4222-8333-444455556666';
  const INTERFACE = 'd1d2d3d4-1111-4222-8333-444455556666';
  const GATEWAY = 'f1f2f3f4-1111-4222-8333-444455556666';
  const routerNetns = `${netns}-router-${ROUTER.slice(0, 11)}`;
  const lanNetns = `${netns}-lan`;
  const GUEST = '10.50.0.5';
  const FLOATING = '172.24.4.20';

  const router = (
    revision: number,
    floating: { address: string; fixed: string }[],
    snat = true,
    routes: { destination: string; nexthop: string }[] = [],
  ) => ({
    id: ROUTER,
    versions: { [`router-${ROUTER}`]: revision, [`network-${LAN}`]: 3, [`network-${EXTERNAL}`]: 1 },
    interfaces: [{ port: INTERFACE, mac: 'fa:16:3e:00:01:01', cidr: '10.50.0.0/24', address: '10.50.0.1' }],
    gateway: {
      port: GATEWAY,
      mac: 'fa:16:3e:00:02:02',
      network: EXTERNAL,
      cidr: '172.24.4.0/24',
      address: '172.24.4.10',
      nexthop: '172.24.4.1',
      snat,
    },
    floating,
    routes,
  });
  const serve = (...routers: object[]) => helperWith(CALLER, JSON.stringify({ routers }), 'l3', LAN);

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', lanNetns]);
  });

  it("makes the router's namespace, with the rig's namespace outside it at the external gateway", () => {
    const served = serve(router(4, []));
    expect(served.stderr).toBe('');
    expect(served.status).toBe(0);
    expect(ip('netns', 'list')).toContain(routerNetns);
    expect(ip('-n', routerNetns, '-4', '-o', 'addr', 'show')).toMatch(
      /qr-d1d2d3d4-11 +inet 10\.50\.0\.1\/24/,
    );
    expect(ip('-n', routerNetns, '-4', '-o', 'addr', 'show')).toMatch(
      /qg-f1f2f3f4-11 +inet 172\.24\.4\.10\/24/,
    );
    expect(ip('-n', netns, '-4', '-o', 'addr', 'show', 'dev', `brq${EXTERNAL.slice(0, 11)}`)).toContain(
      '172.24.4.1/24',
    );
    expect(find('netns', `tap${INTERFACE.slice(0, 11)}`)?.master).toBe(`brq${LAN.slice(0, 11)}`);
    expect(find('netns', `tap${GATEWAY.slice(0, 11)}`)?.master).toBe(`brq${EXTERNAL.slice(0, 11)}`);

    // A stand-in guest on the network, its default route through the router.
    ip('netns', 'add', lanNetns);
    ip('-n', netns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lanNetns);
    ip('-n', netns, 'link', 'set', 'dev', 'lan0', 'master', `brq${LAN.slice(0, 11)}`, 'up');
    ip('-n', lanNetns, 'link', 'set', 'dev', 'lo', 'up');
    ip('-n', lanNetns, 'addr', 'add', `${GUEST}/24`, 'dev', 'eth0');
    ip('-n', lanNetns, 'link', 'set', 'dev', 'eth0', 'up');
    ip('-n', lanNetns, 'route', 'add', 'default', 'via', '10.50.0.1');
    expect(reaches(routerNetns, GUEST)).toBe(true);
  });

  it('takes the guest out by SNAT only while the gateway has it on', () => {
    // The rig's namespace has no route to the guest's network: only a translated ping comes back.
    expect(reaches(lanNetns, '172.24.4.1')).toBe(true);
    expect(serve(router(5, [], false)).status).toBe(0);
    expect(reaches(lanNetns, '172.24.4.1')).toBe(false);
  });

  it("answers a floating IP from the rig's namespace with the guest behind it, and stops when it goes", () => {
    expect(reaches(netns, FLOATING)).toBe(false);
    expect(serve(router(6, [{ address: FLOATING, fixed: GUEST }], false)).status).toBe(0);
    expect(reaches(netns, FLOATING)).toBe(true);
    expect(reaches(lanNetns, '172.24.4.1')).toBe(true); // the guest's own traffic leaves as its floating IP
    expect(serve(router(7, [], false)).status).toBe(0);
    expect(reaches(netns, FLOATING)).toBe(false);
  });

  it('routes its extra routes through their next hops, and drops one no longer asked for', () => {
    const routes = () => ip('-n', routerNetns, '-4', 'route', 'show', 'proto', 'static');
    expect(serve(router(8, [], false, [{ destination: '198.51.100.0/24', nexthop: GUEST }])).status).toBe(0);
    expect(routes()).toContain(`198.51.100.0/24 via ${GUEST} dev qr-${INTERFACE.slice(0, 11)}`);
    expect(serve(router(9, [], false)).status).toBe(0);
    expect(routes()).toBe('');
  });

  it('keeps a newer part when an older one comes after it', () => {
    const stale = serve(router(6, [{ address: FLOATING, fixed: GUEST }]));
    expect(stale.status).toBe(0);
    expect(stale.stderr).toMatch(/newer revision/);
    expect(reaches(netns, FLOATING)).toBe(false);
  });

  it.each([
    [
      'a floating IP for an address behind no interface',
      router(8, [{ address: FLOATING, fixed: '10.99.0.5' }]),
      /on none of the router's interfaces/,
    ],
    [
      'a floating IP outside the external subnet',
      router(8, [{ address: '192.0.2.9', fixed: GUEST }]),
      /not in 172\.24\.4\.0\/24/,
    ],
    ['a router id with a command in it', { ...router(8, []), id: 'x; reboot' }, /UUID/],
  ])('refuses %s with status 2 and leaves the router as it was', (_what, offered, message) => {
    const before = ip('-n', routerNetns, '-4', '-o', 'addr', 'show');
    const result = serve(offered);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(ip('-n', routerNetns, '-4', '-o', 'addr', 'show')).toBe(before);
  });

  it("refuses a guest's tap as a router's port, and leaves the guest's tap where it was", () => {
    expect(helperRun(CALLER, 'prepare', OTHER_INSTANCE, PORT_A).status).toBe(0);
    const takeover = {
      ...router(10, []),
      interfaces: [{ port: PORT_A, mac: 'fa:16:3e:00:01:01', cidr: '10.50.0.0/24', address: '10.50.0.1' }],
    };
    const result = serve(takeover);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not a port of router/);
    expect(find('root', TAP_A)?.linkinfo?.info_kind).toBe('tun');
    // Nothing of the refused request was kept.
    expect(readFileSync(`/run/${netns}/l3/${ROUTER}/parts/${LAN}`, 'utf8')).not.toContain(PORT_A);
    expect(helperRun(CALLER, 'unplug', OTHER_INSTANCE).status).toBe(0);
  });

  it('takes the router away when it is no longer on the network, and leaves the outside in place', () => {
    expect(serve().status).toBe(0);
    expect(ip('netns', 'list')).not.toContain(routerNetns);
    expect(find('netns', `tap${INTERFACE.slice(0, 11)}`)).toBeUndefined();
    expect(find('netns', `tap${GATEWAY.slice(0, 11)}`)).toBeUndefined();
    expect(existsSync(`/run/${netns}/l3/${ROUTER}`)).toBe(false);
    expect(ip('-n', netns, '-4', '-o', 'addr', 'show', 'dev', `brq${EXTERNAL.slice(0, 11)}`)).toContain(
      '172.24.4.1/24',
    );
  });

  it('makes the outside of another external network, as `up` does, and refuses a gateway outside its range', () => {
    const other = 'e1e1e1e1-1111-4222-8333-444455556666';
    const bridge = `brq${other.slice(0, 11)}`;
    const outside = (config: object) => helperWith(CALLER, JSON.stringify(config), 'outside', other);
    expect(outside({ cidr: '198.51.100.0/24', gateway: '203.0.113.1' }).status).toBe(2);
    expect(find('netns', bridge)).toBeUndefined();
    for (let twice = 0; twice < 2; twice += 1) {
      expect(outside({ cidr: '198.51.100.0/24', gateway: '198.51.100.1' }).status).toBe(0);
    }
    expect(ip('-n', netns, '-4', '-o', 'addr', 'show', 'dev', bridge)).toMatch(/inet 198\.51\.100\.1\/24 /);
    ip('-n', netns, 'link', 'del', 'dev', bridge);
  });

  it("takes the router's interface away with the network's last guest", () => {
    expect(serve(router(11, [])).status).toBe(0);
    expect(helperRun(CALLER, 'prepare', INSTANCE, PORT_B).status).toBe(0);
    expect(helperRun(CALLER, 'plug', PORT_B, LAN).status).toBe(0);
    // A refresh of a network with a guest on it keeps the router; the unplug of its last guest does not.
    expect(
      helperWith(CALLER, JSON.stringify({ routers: [router(11, [])] }), 'l3', LAN, '--if-wired').status,
    ).toBe(0);
    expect(ip('netns', 'list')).toContain(routerNetns);
    spawnSync('ip', ['-n', netns, 'link', 'del', 'dev', 'lan0']);
    expect(helperRun(CALLER, 'unplug', INSTANCE).status).toBe(0);
    expect(ip('netns', 'list')).not.toContain(routerNetns);
    expect(find('netns', `brq${LAN.slice(0, 11)}`)).toBeUndefined();
    expect(
      helperWith(CALLER, JSON.stringify({ routers: [router(12, [])] }), 'l3', LAN, '--if-wired').status,
    ).toBe(0);
    expect(ip('netns', 'list')).not.toContain(routerNetns);
  });

  it('finishes, when repeated, a teardown that an unplug failed in after taking the taps away', () => {
    expect(serve(router(13, [])).status).toBe(0);
    expect(helperRun(CALLER, 'prepare', INSTANCE, PORT_B).status).toBe(0);
    expect(helperRun(CALLER, 'plug', PORT_B, LAN).status).toBe(0);
    // A part the helper cannot read makes the router's rebuild, and so the unplug, fail half way.
    const unreadable = `/run/${netns}/l3/${ROUTER}/parts/${NETWORK}`;
    writeFileSync(unreadable, '{');
    const failed = helperRun(CALLER, 'unplug', INSTANCE);
    expect(failed.status).not.toBe(0);
    expect(find('netns', TAP_B)).toBeUndefined();
    rmSync(unreadable);
    const repeated = helperRun(CALLER, 'unplug', INSTANCE);
    expect(repeated.stderr).toBe('');
    expect(repeated.status).toBe(0);
    expect(ip('netns', 'list')).not.toContain(routerNetns);
    expect(find('netns', `brq${LAN.slice(0, 11)}`)).toBeUndefined();
    expect(existsSync(path.join(dir, 'taps', TAP_B))).toBe(false);
  });
});

describe(removeRigNetwork.name, () => {
  it('leaves no namespace, DHCP server, tap or run-time file of the rig, and may be run again', async () => {
    expect(helperRun(CALLER, 'prepare', INSTANCE, PORT_A).status).toBe(0);
    expect(helperRun(CALLER, 'plug', PORT_A, NETWORK).status).toBe(0);
    const config = JSON.stringify({
      revision: 1,
      port: { id: PORT_B, mac: 'fa:16:3e:00:00:02' },
      subnets: [{ cidr: '10.30.0.0/24', address: '10.30.0.2', gateway: null, dns: [], routes: [] }],
      hosts: [],
      filters: [],
    });
    expect(helperWith(CALLER, config, 'dhcp', NETWORK).status).toBe(0);
    expect(helperRun(CALLER, 'prepare', OTHER_INSTANCE, '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9').status).toBe(
      0,
    );

    await removeRigNetwork('ip', stateDir, prefix);
    expect(ip('netns', 'list')).not.toContain(netns);
    expect(
      links('root')
        .map((link) => link.ifname)
        .filter((name) => name.startsWith('tap')),
    ).toEqual([]);
    expect(spawnSync('pgrep', ['-f', `/run/${netns}/`]).status).toBe(1);
    expect(existsSync(`/run/${netns}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await removeRigNetwork('ip', stateDir, prefix);
  });
});
