/**
 * The guest image, for real: built from this machine's Debian packages, booted by qemu-system-x86_64
 * under TCG from a virtio disk with a virtio NIC on QEMU's user-mode network, whose DHCP server hands
 * out 10.0.2.15 with the gateway 10.0.2.2, while a busybox httpd plays the metadata service at
 * 169.254.169.254. QEMU and that server run in a network namespace of their own (unshare --net),
 * so nothing the guest sends leaves it; both are killed by their process group and every file goes.
 * Also runs the lease script /init writes against a veth pair in a namespace of its own, for the
 * DHCP options QEMU's server never sends. Needs root and the Debian packages in
 * deploy/debian-packages.txt.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { eventually } from '../../test/support/eventually.js';
import { BOOT_BANNER } from './boot-image.js';
import { findTool, TOOLS } from './exec.js';
import {
  buildGuestImage,
  findGuestInit,
  GUEST_IMAGE_NAME,
  parseGuestConsole,
  readKernelModule,
} from './guest-image.js';

/** Enough for Debian's kernel with room to spare: it boots with 84 MiB under TCG, and not with 82. */
const GUEST_MEMORY_MIB = 112;
const METADATA_HOSTNAME = 'guest-it.novalocal';

interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a local command; never rejects, so a test can assert on a failure's exit code and stderr. */
function exec(file: string, args: readonly string[]): Promise<Output> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let workDir: string;
let image: string;
let busybox: string;
let unshare: string;
let ip: string;
let qemu: ChildProcess | undefined;
let qemuExit: Promise<void> | undefined;

/**
 * Kills the namespace's processes, QEMU and httpd, by the process group QEMU leads (httpd outlives
 * a QEMU that stopped by itself), and waits for QEMU to be gone.
 */
async function stopQemu(): Promise<void> {
  if (qemu?.pid !== undefined) {
    try {
      process.kill(-qemu.pid, 'SIGKILL');
    } catch {
      // the whole group is gone already
    }
  }
  await qemuExit;
  qemu = undefined;
  qemuExit = undefined;
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'nimbus-guest-it-'));
  busybox = await findTool({ name: 'busybox', debianPackage: 'busybox-static' });
  unshare = await findTool({ name: 'unshare', debianPackage: 'util-linux' });
  ip = await findTool({ name: 'ip', debianPackage: 'iproute2' });
  image = await buildGuestImage(path.join(workDir, 'images'));
}, 120_000);

afterAll(async () => {
  // Runs even when a test failed half way: a QEMU left running would hold its files and the CPU.
  await stopQemu();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 30_000);

describe('the guest image', () => {
  it('is a small qcow2 base with nothing left beside it', async () => {
    expect(path.basename(image)).toBe(GUEST_IMAGE_NAME);
    const info = await exec(await findTool(TOOLS.qemuImg), ['info', '--output=json', image]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ format: 'qcow2' });
    expect((await stat(image)).size).toBeLessThan(16 * 1024 * 1024);
    expect((await exec('ls', ['-A', path.dirname(image)])).stdout).toBe(`${GUEST_IMAGE_NAME}\n`);
  });

  it('boots under TCG from a virtio disk, takes a DHCP lease, reads the metadata and is ready', async () => {
    const metadataRoot = path.join(workDir, 'metadata');
    await mkdir(path.join(metadataRoot, 'openstack', 'latest'), { recursive: true });
    await writeFile(
      path.join(metadataRoot, 'openstack', 'latest', 'meta_data.json'),
      JSON.stringify(
        {
          uuid: '6f1a0d2e-0000-4000-8000-000000000001',
          name: 'guest-it',
          hostname: METADATA_HOSTNAME,
          public_keys: { 'it-key': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA it@nimbus' },
        },
        null,
        2,
      ),
    );
    // A tab, a non-ASCII letter and a CR, which the guest leaves out of its console line.
    await writeFile(
      path.join(metadataRoot, 'openstack', 'latest', 'user_data'),
      '#cloud-config\té\r\nx: 1\n',
    );

    const overlay = path.join(workDir, 'disk.qcow2');
    const log = path.join(workDir, 'console.log');
    const qemuImg = await findTool(TOOLS.qemuImg);
    const created = await exec(qemuImg, ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, overlay]);
    expect(created).toMatchObject({ code: 0 });

    // In the namespace: loopback up, the metadata address on it, httpd serving, then QEMU.
    const namespaceScript =
      'bb=$1; root=$2; shift 2; "$bb" ip link set lo up && "$bb" ip addr add 169.254.169.254/32 dev lo ' +
      '&& { "$bb" httpd -f -p 169.254.169.254:80 -h "$root" & } && exec "$@"';
    // prettier-ignore
    const qemuArgs = [
      await findTool(TOOLS.qemuSystem),
      '-machine', 'pc,accel=tcg',
      '-smp', '1',
      '-m', String(GUEST_MEMORY_MIB),
      '-display', 'none',
      '-monitor', 'none',
      '-no-reboot',
      '-serial', `file:${log}`,
      '-drive', `file=${overlay},if=virtio,format=qcow2`,
      '-netdev', 'user,id=n0',
      '-device', 'virtio-net-pci,netdev=n0',
    ];
    const child = spawn(
      unshare,
      ['--net', busybox, 'sh', '-c', namespaceScript, 'sh', busybox, metadataRoot, ...qemuArgs],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    qemu = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    qemuExit = new Promise((resolve) => child.once('close', () => resolve()));

    const text = await eventually(
      `'nimbus-guest: ready' in ${log}`,
      async () => {
        const seen = await readFile(log, 'utf8').catch(() => '');
        if (parseGuestConsole(seen).ready) return seen;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`QEMU stopped (${child.exitCode ?? child.signalCode}): ${stderr}\n${seen}`);
        return undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250 },
    );

    expect(text).toContain(`${BOOT_BANNER}\r\n`);
    expect(text).toContain('nimbus-guest: eth0 address 10.0.2.15/24 gateway 10.0.2.2\r\n');
    expect(parseGuestConsole(text)).toEqual({
      booted: true,
      address: { nic: 'eth0', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2' },
      metadata: 'available',
      hostname: METADATA_HOSTNAME,
      publicKeys: ['it-key'],
      userData: '#cloud-config',
      ready: true,
    });

    await stopQemu();
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  }, 180_000);
});

describe(readKernelModule.name, () => {
  it('decompresses a module the package compressed, which busybox insmod could not load', async () => {
    const modulesDir = path.join(workDir, 'modules');
    const scratch = path.join(workDir, 'module-scratch');
    await mkdir(path.join(modulesDir, 'kernel'), { recursive: true });
    await mkdir(scratch);
    const object = Buffer.from('\x7fELF stands in for a module');
    await writeFile(path.join(modulesDir, 'kernel', 'virtio-x.ko.gz'), gzipSync(object));
    const module = { name: 'virtio_x', file: 'kernel/virtio-x.ko.gz' };
    expect(await readKernelModule(module, modulesDir, scratch, busybox)).toEqual(object);
  });
});

describe('the lease script /init writes', () => {
  /** Runs the script as udhcpc would, chrooted, with a veth end as eth0 in a network namespace of its own. */
  async function applyLease(steps: readonly (readonly [event: string, lease: Record<string, string>])[]) {
    const init = await readFile(await findGuestInit(), 'utf8');
    const script = /<<'SCRIPT'\n([\s\S]*?)\nSCRIPT\n/.exec(init)?.[1];
    expect(script).toBeDefined();
    const root = path.join(workDir, 'lease-root');
    await mkdir(path.join(root, 'bin'), { recursive: true });
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await copyFile(busybox, path.join(root, 'bin', 'busybox'));
    await writeFile(path.join(root, 'etc', 'udhcpc.sh'), `${script}\n`, { mode: 0o755 });
    const variables = (lease: Record<string, string>) =>
      Object.entries(lease).map(([name, value]) => `${name}='${value}'`);
    const body = [
      '/bin/busybox --install -s /bin',
      'export PATH=/bin',
      'ip link set eth0 up || exit 9',
      ...steps.map(
        ([event, lease]) =>
          `env interface=eth0 ${variables(lease).join(' ')} sh /etc/udhcpc.sh ${event} || exit 8`,
      ),
      'ip -4 -o addr show dev eth0 | sed -n "s/.* inet \\([0-9./]*\\) .*/address \\1/p"',
      'ip -4 route show dev eth0 | sed "s/ *$//"',
      'cat /etc/resolv.conf',
    ].join('\n');
    try {
      // In the namespace: a veth pair made with iproute2 (busybox ip cannot), then the chroot.
      const namespaceScript =
        'ip=$1; shift; "$ip" link add eth0 type veth peer name peer0 && "$ip" link set peer0 up && exec "$@"';
      const chroot = [busybox, 'chroot', root, '/bin/busybox', 'sh', '-c', body];
      return await exec(unshare, ['--net', busybox, 'sh', '-c', namespaceScript, 'sh', ip, ...chroot]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  it('applies address, classless static routes over the router option, and DNS; renewing changes nothing', async () => {
    const lease = {
      ip: '10.0.0.5',
      mask: '24',
      broadcast: '10.0.0.255',
      router: '10.0.0.99',
      staticroutes: '192.168.0.0/16 10.0.0.254 0.0.0.0/0 10.0.0.1',
      dns: '10.0.0.2 10.0.0.3',
      domain: 'example.org',
    };
    const result = await applyLease([
      ['deconfig', {}],
      ['bound', lease],
      ['renew', lease],
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines).toContain('address 10.0.0.5/24');
    expect(lines).toContain('default via 10.0.0.1 dev eth0');
    expect(lines).toContain('192.168.0.0/16 via 10.0.0.254 dev eth0');
    expect(result.stdout).not.toContain('10.0.0.99');
    expect(lines).toEqual(
      expect.arrayContaining(['search example.org', 'nameserver 10.0.0.2', 'nameserver 10.0.0.3']),
    );
  }, 30_000);

  it('uses the router option without static routes, and a renewal to a new address drops the old one', async () => {
    const result = await applyLease([
      ['bound', { ip: '10.0.0.5', mask: '24', router: '10.0.0.1', dns: '10.0.0.2' }],
      ['renew', { ip: '10.0.1.6', mask: '16', router: '10.0.0.1', dns: '10.0.0.2' }],
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining(['address 10.0.1.6/16', 'default via 10.0.0.1 dev eth0', 'nameserver 10.0.0.2']),
    );
    expect(result.stdout).not.toContain('10.0.0.5');
  }, 30_000);
});
