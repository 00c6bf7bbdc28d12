import { lchown, lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BOOT_BANNER } from './boot-image.js';
import { findTool, run } from './exec.js';
import {
  compareKernelVersions,
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
  initramfsMembers,
  isStaticElf,
  moduleLoadOrder,
  packInitramfs,
  parseGuestConsole,
  stageInitramfs,
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

describe('the initramfs, staged and packed by GNU cpio', () => {
  const contents = {
    init: Buffer.from('#!/bin/sh\necho init\n'),
    busybox: Buffer.from('\x7fELF stands in for busybox'),
    modules: [
      { name: 'virtio', data: Buffer.from('a') },
      { name: 'virtio_net', data: Buffer.from('bc') },
    ],
  };
  let work: string;
  let cpio: string;
  let mknod: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'nimbus-guest-initramfs-'));
    cpio = await findTool({ name: 'cpio', debianPackage: 'cpio' });
    mknod = await findTool({ name: 'mknod', debianPackage: 'coreutils' });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Stages `contents` under a umask that would narrow every mode, then packs them; the archive's path. */
  async function stageAndPack(
    name: string,
    beforePacking?: (stage: string) => Promise<void>,
  ): Promise<string> {
    const stage = path.join(work, `${name}-stage`);
    const umask = process.umask(0o027);
    try {
      await stageInitramfs(stage, contents, mknod);
    } finally {
      process.umask(umask);
    }
    await beforePacking?.(stage);
    const archive = path.join(work, `${name}.cpio`);
    await packInitramfs(cpio, stage, archive);
    return archive;
  }

  it('packs every member in order, folders first, owned by root, with its mode and time 0', async () => {
    // Owned by someone else on disk, as a stage copied by another user might be: the archive says root.
    const archive = await stageAndPack('listed', (stage) =>
      lchown(path.join(stage, 'bin', 'busybox'), 1234, 1234),
    );
    const { stdout } = await run(cpio, ['-itv', '--numeric-uid-gid', '--quiet', '-I', archive], {
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    });
    // `ls -l` lines: mode, links, uid, gid, size (or major, minor), date, name (-> target).
    const dates = new Set<string>();
    const listed = stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const fields =
          /^(\S{10})\s+\d+\s+(\d+)\s+(\d+)\s+(\d+,\s+\d+|\d+)\s+(\w{3}\s+\d+\s+[\d:]+)\s(.+)$/.exec(line);
        expect([line, fields === null]).toEqual([line, false]);
        const [mode = '', uid = '', gid = '', size = '', date = '', name = ''] = fields?.slice(1) ?? [];
        dates.add(date.replace(/\s+/g, ' '));
        return `${mode} ${uid}:${gid} ${size.replace(/\s+/g, ' ')} ${name}`;
      });
    expect(listed).toEqual([
      'drwxr-xr-x 0:0 0 bin',
      `-rwxr-xr-x 0:0 ${contents.busybox.length} bin/busybox`,
      'lrwxrwxrwx 0:0 7 bin/sh -> busybox',
      'drwxr-xr-x 0:0 0 dev',
      'crw------- 0:0 5, 1 dev/console',
      'drwxr-xr-x 0:0 0 etc',
      '-rw-r--r-- 0:0 18 etc/nimbus-modules',
      `-rwxr-xr-x 0:0 ${contents.init.length} init`,
      'drwxr-xr-x 0:0 0 lib',
      'drwxr-xr-x 0:0 0 lib/modules',
      '-rw-r--r-- 0:0 1 lib/modules/virtio.ko',
      '-rw-r--r-- 0:0 2 lib/modules/virtio_net.ko',
      'drwxr-xr-x 0:0 0 proc',
      'drwxr-xr-x 0:0 0 run',
      'drwxr-xr-x 0:0 0 sys',
      'drwxr-xr-x 0:0 0 tmp',
    ]);
    expect([...dates]).toEqual(['Jan 1 1970']);
  });

  it('packs what the kernel unpacks: the files, the symlink and the console device 5,1', async () => {
    const archive = await stageAndPack('extracted');
    const root = path.join(work, 'extracted');
    await mkdir(root);
    // prettier-ignore
    await run(cpio, [
      '--extract', '--make-directories', '--no-absolute-filenames', '--quiet', '-D', root, '-I', archive,
    ]);
    expect(await readFile(path.join(root, 'init'))).toEqual(contents.init);
    expect(await readFile(path.join(root, 'bin', 'busybox'))).toEqual(contents.busybox);
    expect(await readFile(path.join(root, 'lib', 'modules', 'virtio.ko'), 'utf8')).toBe('a');
    expect(await readFile(path.join(root, 'lib', 'modules', 'virtio_net.ko'), 'utf8')).toBe('bc');
    expect(await readFile(path.join(root, 'etc', 'nimbus-modules'), 'utf8')).toBe('virtio\nvirtio_net\n');
    expect(await readlink(path.join(root, 'bin', 'sh'))).toBe('busybox');
    const console = await lstat(path.join(root, 'dev', 'console'));
    expect(console.isCharacterDevice()).toBe(true);
    expect([console.rdev >> 8, console.rdev & 0xff]).toEqual([5, 1]);
    expect([console.uid, console.gid, console.mode & 0o7777]).toEqual([0, 0, 0o600]);
  });

  it('packs the same inputs into the same bytes, whatever the stage folder and its inodes', async () => {
    const first = await readFile(await stageAndPack('first'));
    const second = await readFile(await stageAndPack('second'));
    expect(first.subarray(0, 6).toString()).toBe('070701');
    expect(second.equals(first)).toBe(true);
  });

  it('lists the staged members each after its folder, and stages only into a new folder', async () => {
    const stage = path.join(work, 'members-stage');
    await stageInitramfs(stage, contents, mknod);
    const members = await initramfsMembers(stage);
    expect(members).toHaveLength(16);
    expect(members.slice(0, 5)).toEqual(['bin', 'bin/busybox', 'bin/sh', 'dev', 'dev/console']);
    for (const [i, member] of members.entries()) {
      const folder = path.dirname(member);
      if (folder !== '.') expect(members.indexOf(folder)).toBeLessThan(i);
    }
    await expect(stageInitramfs(stage, contents, mknod)).rejects.toThrow(/EEXIST/);
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
