import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { BOOT_BANNER } from './boot-image.js';
import {
  compareKernelVersions,
  cpioArchive,
  findGuestInit,
  findKernel,
  GUEST_ADDRESS_LINE,
  GUEST_HOSTNAME_LINE,
  GUEST_KERNEL_COMMAND_LINE,
  GUEST_METADATA_UNAVAILABLE_LINE,
  GUEST_NO_HOSTNAME_LINE,
  GUEST_NO_LEASE_LINE,
  GUEST_PUBLIC_KEY_LINE,
  GUEST_READY_LINE,
  GUEST_USER_DATA_LINE,
  initramfsEntries,
  isStaticElf,
  moduleLoadOrder,
  parseGuestConsole,
  syslinuxConfig,
} from './guest-image.js';

describe('the guest /init source', () => {
  let init: string;
  beforeAll(async () => {
    init = await readFile(await findGuestInit(), 'utf8');
  });

  it('prints the boot banner the rig and its tests look for', () => {
    expect(init).toContain(`say "${BOOT_BANNER}"`);
  });

  it('prints every line parseGuestConsole reads, in the shape it reads', () => {
    expect(init).toContain('say "nimbus-guest: $nic address ${address:-none} gateway ${gateway:-none}"');
    expect(init).toContain('say "nimbus-guest: $nic no DHCP lease"');
    expect(init).toContain('say "nimbus-guest: metadata hostname $name"');
    expect(init).toContain('say "nimbus-guest: metadata without hostname"');
    expect(init).toContain(`say "${GUEST_METADATA_UNAVAILABLE_LINE}"`);
    expect(init).toContain('say "nimbus-guest: metadata public key $key"');
    expect(init).toContain('say "nimbus-guest: user data $(');
    expect(init).toContain(`say "${GUEST_READY_LINE}"`);
  });

  it('reads the module list the builder writes and never lets process 1 end', () => {
    expect(init).toContain('done </etc/nimbus-modules');
    expect(init).toMatch(/while :; do\n {2}sleep 3600\ndone\n$/);
  });

  it('never passes -T to wget, which Debian 12 busybox builds without and crashes on', () => {
    expect(init).not.toMatch(/^[^#\n]*wget[^\n]* -T/m);
    expect(init).toMatch(/timeout \d+ wget/);
  });
});

describe(findGuestInit.name, () => {
  it('finds the source beside the module when run from the repository', async () => {
    expect(await findGuestInit(import.meta.dirname)).toBe(
      path.join(import.meta.dirname, 'guest-image', 'init.sh'),
    );
  });

  it('finds deploy/rig/guest-image/init.sh above a compiled dist/deploy/rig', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'nimbus-guest-source-'));
    try {
      await mkdir(path.join(repo, 'deploy', 'rig', 'guest-image'), { recursive: true });
      await mkdir(path.join(repo, 'dist', 'deploy', 'rig'), { recursive: true });
      await writeFile(path.join(repo, 'deploy', 'rig', 'guest-image', 'init.sh'), '#!/bin/sh\n');
      expect(await findGuestInit(path.join(repo, 'dist', 'deploy', 'rig'))).toBe(
        path.join(repo, 'deploy', 'rig', 'guest-image', 'init.sh'),
      );
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('says where it looked when there is no source', async () => {
    await expect(findGuestInit('/')).rejects.toThrow(/cannot find deploy\/rig\/guest-image\/init.sh/);
  });
});

describe(parseGuestConsole.name, () => {
  const boot = [
    '',
    'SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al',
    'Loading /vmlinuz... ok',
    BOOT_BANNER,
    'udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2, lease time 86400',
    'nimbus-guest: eth0 address 10.0.2.15/24 gateway 10.0.2.2',
    'nimbus-guest: metadata hostname vm-1.novalocal',
    'nimbus-guest: metadata public key mykey',
    'nimbus-guest: metadata public key other key',
    'nimbus-guest: user data #cloud-config',
    GUEST_READY_LINE,
    '',
  ];

  it('reads a whole boot from a CRLF console log', () => {
    expect(parseGuestConsole(boot.join('\r\n'))).toEqual({
      booted: true,
      address: { nic: 'eth0', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2' },
      metadata: 'available',
      hostname: 'vm-1.novalocal',
      publicKeys: ['mykey', 'other key'],
      userData: '#cloud-config',
      ready: true,
    });
  });

  it('reads a boot still under way, and a log with nothing yet', () => {
    expect(parseGuestConsole(boot.slice(0, 6).join('\n'))).toEqual({
      booted: true,
      address: { nic: 'eth0', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2' },
      publicKeys: [],
      ready: false,
    });
    expect(parseGuestConsole('')).toEqual({ booted: false, publicKeys: [], ready: false });
  });

  it('reads a lease without a gateway, a failed lease and an unreachable metadata service', () => {
    const log = [BOOT_BANNER, 'nimbus-guest: ens3 address 192.168.1.7/16 gateway none', GUEST_READY_LINE];
    expect(parseGuestConsole(log.join('\n')).address).toEqual({ nic: 'ens3', ip: '192.168.1.7', prefix: 16 });
    const failed = parseGuestConsole(
      [
        BOOT_BANNER,
        'nimbus-guest: eth0 no DHCP lease',
        GUEST_METADATA_UNAVAILABLE_LINE,
        GUEST_READY_LINE,
      ].join('\n'),
    );
    expect(failed).toEqual({
      booted: true,
      noLeaseOn: 'eth0',
      metadata: 'unavailable',
      publicKeys: [],
      ready: true,
    });
  });

  it('tells metadata without a hostname from no metadata, and reads an empty user data line', () => {
    const parsed = parseGuestConsole(
      [BOOT_BANNER, 'nimbus-guest: metadata without hostname', 'nimbus-guest: user data'].join('\n'),
    );
    expect(parsed).toMatchObject({ metadata: 'available', userData: '' });
    expect(parsed.hostname).toBeUndefined();
  });

  it('reads only the latest boot when the log holds several', () => {
    const first = [BOOT_BANNER, 'nimbus-guest: eth0 address 10.0.0.5/24 gateway 10.0.0.1', GUEST_READY_LINE];
    const second = [BOOT_BANNER, 'nimbus-guest: eth0 address 10.0.0.6/24 gateway none'];
    expect(parseGuestConsole([...first, ...second].join('\n'))).toEqual({
      booted: true,
      address: { nic: 'eth0', ip: '10.0.0.6', prefix: 24 },
      publicKeys: [],
      ready: false,
    });
  });

  it('ignores lines that only look alike', () => {
    const log = [
      BOOT_BANNER,
      'nimbus-guest: eth0 address 10.0.2.15 gateway 10.0.2.2', // no prefix length
      '[    2.1] nimbus-guest: ready', // not at the start of the line
      'nimbus-guest: metadata hostname two words',
      'nimbus-guest: user datafoo',
    ];
    expect(parseGuestConsole(log.join('\n'))).toEqual({ booted: true, publicKeys: [], ready: false });
  });

  it('exports line patterns that match exactly the lines /init prints', () => {
    expect(
      GUEST_ADDRESS_LINE.exec('nimbus-guest: eth0 address 10.0.0.5/24 gateway 10.0.0.1')?.slice(1),
    ).toEqual(['eth0', '10.0.0.5', '24', '10.0.0.1']);
    expect(GUEST_NO_LEASE_LINE.exec('nimbus-guest: eth0 no DHCP lease')?.[1]).toBe('eth0');
    expect(GUEST_HOSTNAME_LINE.exec('nimbus-guest: metadata hostname a.b')?.[1]).toBe('a.b');
    expect(GUEST_NO_HOSTNAME_LINE.test('nimbus-guest: metadata without hostname')).toBe(true);
    expect(GUEST_PUBLIC_KEY_LINE.exec('nimbus-guest: metadata public key k 1')?.[1]).toBe('k 1');
    expect(GUEST_USER_DATA_LINE.exec('nimbus-guest: user data  x ')?.[1]).toBe(' x ');
  });
});

describe(moduleLoadOrder.name, () => {
  const modulesDep = [
    'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko ' +
      'kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko',
    'kernel/net/core/failover.ko:',
    'kernel/drivers/virtio/virtio_ring.ko.xz: kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio.ko:',
    'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/char/virtio-rng.ko: kernel/drivers/virtio/virtio.ko',
    '',
  ].join('\n');

  it('puts every module after what it depends on, each once', () => {
    const order = moduleLoadOrder(modulesDep, '', ['virtio_net', 'virtio_blk']);
    expect(order.map((module) => module.name)).toEqual([
      'failover',
      'net_failover',
      'virtio',
      'virtio_ring',
      'virtio_net',
      'virtio_blk',
    ]);
    expect(order.find((module) => module.name === 'virtio_ring')?.file).toBe(
      'kernel/drivers/virtio/virtio_ring.ko.xz',
    );
  });

  it('names modules with underscores and leaves out those built into the kernel', () => {
    const builtin = 'kernel/drivers/virtio/virtio.ko\nkernel/net/core/failover.ko\n';
    expect(moduleLoadOrder(modulesDep, builtin, ['virtio_rng', 'virtio']).map((m) => m.name)).toEqual([
      'virtio_rng',
    ]);
  });

  it('fails on a module the kernel does not have', () => {
    expect(() => moduleLoadOrder(modulesDep, '', ['virtio_pci'])).toThrow(/no module virtio_pci/);
  });
});

describe(compareKernelVersions.name, () => {
  it('orders Debian ABI names by their numbers', () => {
    const versions = ['6.1.0-9-amd64', '6.1.0-57-amd64', '6.1.0-10-amd64', '5.10.0-30-amd64'];
    expect([...versions].sort(compareKernelVersions)).toEqual([
      '5.10.0-30-amd64',
      '6.1.0-9-amd64',
      '6.1.0-10-amd64',
      '6.1.0-57-amd64',
    ]);
  });
});

describe(findKernel.name, () => {
  it('picks the newest vmlinuz whose modules are installed', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'nimbus-guest-kernel-'));
    try {
      const boot = path.join(root, 'boot');
      const modules = path.join(root, 'modules');
      await mkdir(boot);
      for (const version of ['6.1.0-9-amd64', '6.1.0-10-amd64', '6.1.0-11-amd64']) {
        await writeFile(path.join(boot, `vmlinuz-${version}`), '');
      }
      for (const version of ['6.1.0-9-amd64', '6.1.0-10-amd64']) {
        await mkdir(path.join(modules, version), { recursive: true });
        await writeFile(path.join(modules, version, 'modules.dep'), '');
      }
      expect(await findKernel(boot, modules)).toEqual({
        version: '6.1.0-10-amd64',
        vmlinuz: path.join(boot, 'vmlinuz-6.1.0-10-amd64'),
        modulesDir: path.join(modules, '6.1.0-10-amd64'),
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('names the package to install when there is no kernel', async () => {
    await expect(findKernel('/nonexistent-boot', '/nonexistent-modules')).rejects.toThrow(
      /apt-get install linux-image-amd64/,
    );
  });
});

/** The members of a newc archive: name, mode, rdev and data, as the kernel would unpack them. */
function readCpio(archive: Buffer) {
  const members: { name: string; mode: number; rdev: [number, number]; data: Buffer }[] = [];
  let offset = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(archive.toString('latin1', offset, offset + 6)).toBe('070701');
    const field = (i: number) =>
      parseInt(archive.toString('latin1', offset + 6 + i * 8, offset + 14 + i * 8), 16);
    const [mode, size, rdevMajor, rdevMinor, nameSize] = [1, 6, 9, 10, 11].map(field) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const name = archive.toString('latin1', offset + 110, offset + 110 + nameSize - 1);
    const dataStart = align(offset + 110 + nameSize);
    const data = archive.subarray(dataStart, dataStart + size);
    offset = align(dataStart + size);
    if (name === 'TRAILER!!!') break;
    members.push({ name, mode, rdev: [rdevMajor, rdevMinor], data });
  }
  expect(offset).toBe(archive.length);
  return members;
}

describe(cpioArchive.name, () => {
  it('writes the newc members the kernel unpacks, aligned to 4 bytes, ending with the trailer', () => {
    const archive = cpioArchive([
      { kind: 'dir', name: 'bin' },
      { kind: 'file', name: 'bin/busybox', data: Buffer.from('12345'), mode: 0o755 },
      { kind: 'symlink', name: 'bin/sh', target: 'busybox' },
      { kind: 'chardev', name: 'dev/console', major: 5, minor: 1 },
    ]);
    expect(readCpio(archive)).toEqual([
      { name: 'bin', mode: 0o040755, rdev: [0, 0], data: Buffer.alloc(0) },
      { name: 'bin/busybox', mode: 0o100755, rdev: [0, 0], data: Buffer.from('12345') },
      { name: 'bin/sh', mode: 0o120777, rdev: [0, 0], data: Buffer.from('busybox') },
      { name: 'dev/console', mode: 0o020600, rdev: [5, 1], data: Buffer.alloc(0) },
    ]);
  });

  it('makes the same bytes from the same members', () => {
    const entries = initramfsEntries(Buffer.from('#!/bin/sh\n'), Buffer.from('elf'), []);
    expect(cpioArchive(entries).equals(cpioArchive(entries))).toBe(true);
  });
});

describe(initramfsEntries.name, () => {
  it('holds /init, busybox as /bin/sh, the console node, the modules and their load order', () => {
    const entries = initramfsEntries(Buffer.from('#!/bin/sh\n'), Buffer.from('elf'), [
      { name: 'virtio', data: Buffer.from('a') },
      { name: 'virtio_net', data: Buffer.from('b') },
    ]);
    // The builder gzips the archive, which the kernel unpacks as it is.
    const members = readCpio(gunzipSync(gzipSync(cpioArchive(entries))));
    const byName = new Map(members.map((member) => [member.name, member]));
    expect(byName.get('init')?.mode).toBe(0o100755);
    expect(byName.get('bin/sh')?.data.toString()).toBe('busybox');
    expect(byName.get('dev/console')?.rdev).toEqual([5, 1]);
    expect(byName.get('lib/modules/virtio_net.ko')?.data.toString()).toBe('b');
    expect(byName.get('etc/nimbus-modules')?.data.toString()).toBe('virtio\nvirtio_net\n');
  });
});

describe(isStaticElf.name, () => {
  /** A minimal ELF64 header with the given program header types. */
  function elf(types: number[]): Buffer {
    const header = Buffer.alloc(64 + types.length * 56);
    header.writeUInt32BE(0x7f454c46, 0);
    header[4] = 2;
    header.writeBigUInt64LE(64n, 0x20);
    header.writeUInt16LE(56, 0x36);
    header.writeUInt16LE(types.length, 0x38);
    types.forEach((type, i) => header.writeUInt32LE(type, 64 + i * 56));
    return header;
  }

  it('tells a static executable from one that names a dynamic loader', () => {
    expect(isStaticElf(elf([1, 1, 4]))).toBe(true);
    expect(isStaticElf(elf([6, 3, 1]))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });
});

describe(syslinuxConfig.name, () => {
  it('boots the kernel and initramfs at once with the console on COM1', () => {
    const config = syslinuxConfig();
    expect(config).toContain('SERIAL 0 115200');
    expect(config).toContain('  LINUX /vmlinuz\n  INITRD /initrd.gz\n');
    expect(config).toContain(`  APPEND ${GUEST_KERNEL_COMMAND_LINE}\n`);
    // The last console= is /dev/console, where /init writes.
    expect(GUEST_KERNEL_COMMAND_LINE.match(/console=(\w+)/g)?.at(-1)).toBe('console=ttyS0');
  });
});
