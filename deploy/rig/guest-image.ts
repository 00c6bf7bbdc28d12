// Builds the Nimbus guest image, a Linux guest that proves guest networking: a raw disk that SeaBIOS
// boots (a FAT filesystem with SYSLINUX in its boot sector) holding Debian's packaged kernel and an
// initramfs of busybox-static, the virtio modules and the committed guest-image/init.sh as /init,
// laid out in a scratch folder and packed by GNU cpio; qemu-img wraps the disk as the qcow2 base that
// overlays are made on. On its console the guest reports its DHCP lease and what the metadata service
// told it, in lines parseGuestConsole reads back. Building it takes root, as the rig has: the
// initramfs holds a device node.
// It must never download anything, mount anything, or write outside the images folder it is given.

import {
  chmod,
  lutimes,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { BOOT_BANNER } from './boot-image.js';
import { findTools, run, TOOLS, type Tool } from './exec.js';
import { exists, findRigFile, readIfExists } from './files.js';

export const GUEST_IMAGE_NAME = 'nimbus-guest.qcow2';

/** The modules /init loads, with what they depend on: the virtio PCI transport, NIC and disk. */
export const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk'] as const;

/**
 * The kernel's command line. The last console= becomes /dev/console, where /init writes: COM1,
 * which libvirt logs to a file. Kernel messages go to the screen too, errors and warnings only.
 */
export const GUEST_KERNEL_COMMAND_LINE = 'console=tty0 console=ttyS0,115200 loglevel=4';

const GUEST_TOOLS = {
  busybox: { name: 'busybox', debianPackage: 'busybox-static' },
  mkfsFat: { name: 'mkfs.fat', debianPackage: 'dosfstools' },
  mcopy: { name: 'mcopy', debianPackage: 'mtools' },
  syslinux: { name: 'syslinux', debianPackage: 'syslinux' },
  cpio: { name: 'cpio', debianPackage: 'cpio' },
  mknod: { name: 'mknod', debianPackage: 'coreutils' },
  qemuImg: TOOLS.qemuImg,
} as const satisfies Record<string, Tool>;

type GuestTools = Record<keyof typeof GUEST_TOOLS, string>;

/** The /init source, beside this module or in the repository above a compiled copy of it. */
export function findGuestInit(moduleDir = path.dirname(fileURLToPath(import.meta.url))): Promise<string> {
  return findRigFile(path.join('guest-image', 'init.sh'), moduleDir);
}

const KERNEL_PACKAGE = 'linux-image-amd64';

export interface Kernel {
  readonly version: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

/** Orders kernel versions as dpkg would for Debian's ABI names: numbers by value, the rest as text. */
export function compareKernelVersions(a: string, b: string): number {
  const split = (version: string) => version.split(/(\d+)/).filter((part) => part !== '');
  const left = split(a);
  const right = split(b);
  for (const [i, x] of left.entries()) {
    const y = right[i];
    if (y === undefined) break;
    const order = /^\d/.test(x) && /^\d/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** The newest packaged kernel that has its modules installed (linux-image-amd64 pulls both in). */
export async function findKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): Promise<Kernel> {
  const names = (await exists(bootDir)) ? await readdir(bootDir) : [];
  const versions = names.flatMap((name) => /^vmlinuz-(.+)$/.exec(name)?.[1] ?? []);
  const usable: string[] = [];
  for (const version of versions) {
    if (await exists(path.join(modulesRoot, version, 'modules.dep'))) usable.push(version);
  }
  const version = usable.sort(compareKernelVersions).at(-1);
  if (version === undefined)
    throw new Error(
      `no kernel in ${bootDir} with modules in ${modulesRoot}; install the Debian package: ` +
        `apt-get install ${KERNEL_PACKAGE}`,
    );
  return {
    version,
    vmlinuz: path.join(bootDir, `vmlinuz-${version}`),
    modulesDir: path.join(modulesRoot, version),
  };
}

/** A module as modules.dep names it: its name with `_` for `-`, and its file (maybe compressed). */
export interface KernelModule {
  readonly name: string;
  readonly file: string;
}

export function moduleName(file: string): string {
  return path
    .basename(file)
    .replace(/\.ko(\.\w+)?$/, '')
    .replace(/-/g, '_');
}

/**
 * The modules to load for `wanted`, each after everything it depends on, from the text of
 * modules.dep (`kernel/.../a.ko: kernel/.../b.ko ...`, paths relative to the modules folder). A
 * module built into the kernel (listed in modules.builtin) needs no loading and is left out.
 */
export function moduleLoadOrder(
  modulesDep: string,
  modulesBuiltin: string,
  wanted: readonly string[],
): KernelModule[] {
  const deps = new Map<string, { file: string; needs: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const [file, rest] = line.split(':');
    if (file === undefined || rest === undefined || file.trim() === '') continue;
    const needs = rest.trim() === '' ? [] : rest.trim().split(/\s+/).map(moduleName);
    deps.set(moduleName(file.trim()), { file: file.trim(), needs });
  }
  const builtin = new Set(
    modulesBuiltin
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(moduleName),
  );
  const ordered: KernelModule[] = [];
  const visit = (name: string, chain: readonly string[]): void => {
    if (builtin.has(name) || ordered.some((module) => module.name === name)) return;
    if (chain.includes(name)) throw new Error(`modules.dep has a cycle: ${[...chain, name].join(' -> ')}`);
    const entry = deps.get(name);
    if (entry === undefined) throw new Error(`the kernel has no module ${name}, built in or loadable`);
    for (const need of entry.needs) visit(need, [...chain, name]);
    ordered.push({ name, file: entry.file });
  };
  for (const name of wanted) visit(name, []);
  return ordered;
}

// Debian 12 ships plain .ko files; later releases compress them, which busybox insmod cannot load.
const DECOMPRESSORS: Readonly<Record<string, string>> = { '.xz': 'unxz', '.gz': 'gunzip' };

/** A module's ELF object, decompressed (with busybox, in `scratchDir`) when the package compressed it. */
export async function readKernelModule(
  module: KernelModule,
  modulesDir: string,
  scratchDir: string,
  busybox: string,
): Promise<Buffer> {
  const file = path.join(modulesDir, module.file);
  if (file.endsWith('.ko')) return readFile(file);
  const suffix = path.extname(file);
  const applet = DECOMPRESSORS[suffix];
  if (applet === undefined) throw new Error(`cannot decompress kernel module ${file}`);
  const copy = path.join(scratchDir, `${module.name}.ko${suffix}`);
  await writeFile(copy, await readFile(file));
  await run(busybox, [applet, '-f', copy]);
  return readFile(path.join(scratchDir, `${module.name}.ko`));
}

/** True for a 64-bit ELF executable without a PT_INTERP header, one that needs no dynamic loader. */
export function isStaticElf(binary: Buffer): boolean {
  if (binary.length < 64 || binary.readUInt32BE(0) !== 0x7f454c46 || binary[4] !== 2) return false;
  const programHeaders = Number(binary.readBigUInt64LE(0x20));
  const entrySize = binary.readUInt16LE(0x36);
  const count = binary.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    const offset = programHeaders + i * entrySize;
    if (offset + 4 > binary.length) return false;
    if (binary.readUInt32LE(offset) === 3) return false; // PT_INTERP
  }
  return true;
}

/** What the initramfs holds besides its folders: /init, busybox and the modules in their load order. */
export interface InitramfsContents {
  readonly init: Buffer;
  readonly busybox: Buffer;
  readonly modules: readonly { readonly name: string; readonly data: Buffer }[];
}

const INITRAMFS_DIRS = ['bin', 'dev', 'etc', 'lib', 'lib/modules', 'proc', 'run', 'sys', 'tmp'];

/** The guest image holds a device node, which only root can make; the rig runs as root anyway. */
function requireRoot(): void {
  const uid = process.getuid?.();
  if (uid !== 0)
    throw new Error(
      `the guest image is built by root, as the rig is (this process runs as uid ${String(uid)}): ` +
        'its initramfs holds /dev/console, a device node only root can make',
    );
}

/**
 * Lays the initramfs out in `stage`, a folder this makes (it must not exist yet), as the kernel is
 * to unpack it: busybox as /bin/sh, /init, the modules, their load order and the console device,
 * made with `mknod` and so by root only. Every member gets its mode set and the time 0, so the same
 * inputs always pack into the same bytes.
 */
export async function stageInitramfs(
  stage: string,
  contents: InitramfsContents,
  mknod: string,
): Promise<void> {
  requireRoot();
  await mkdir(stage);
  for (const dir of INITRAMFS_DIRS) await mkdir(path.join(stage, dir), { mode: 0o755 });
  const files = [
    { name: 'bin/busybox', data: contents.busybox, mode: 0o755 },
    { name: 'init', data: contents.init, mode: 0o755 },
    ...contents.modules.map((module) => ({
      name: `lib/modules/${module.name}.ko`,
      data: module.data,
      mode: 0o644,
    })),
    {
      name: 'etc/nimbus-modules',
      data: Buffer.from(contents.modules.map((module) => `${module.name}\n`).join('')),
      mode: 0o644,
    },
  ];
  for (const file of files) await writeFile(path.join(stage, file.name), file.data, { flag: 'wx' });
  await symlink('busybox', path.join(stage, 'bin', 'sh'));
  // The kernel opens /dev/console for /init's output before anything mounts devtmpfs.
  await run(mknod, ['-m', '600', path.join(stage, 'dev', 'console'), 'c', '5', '1']);
  // The umask may have narrowed the modes asked for above; chmod sets them exactly.
  for (const dir of INITRAMFS_DIRS) await chmod(path.join(stage, dir), 0o755);
  for (const file of files) await chmod(path.join(stage, file.name), file.mode);
  for (const member of await initramfsMembers(stage)) await lutimes(path.join(stage, member), 0, 0);
}

/**
 * The members of a staged initramfs, relative to `stage` and sorted, so that every folder comes
 * before what it holds (its path is a prefix of theirs), as the kernel needs to unpack them.
 */
export async function initramfsMembers(stage: string): Promise<string[]> {
  return (await readdir(stage, { recursive: true })).sort();
}

/**
 * Packs a staged initramfs into `archive` with GNU cpio, in the "newc" format the kernel reads,
 * every member owned by root with the inode and device numbers cpio renumbers (--reproducible).
 * --force-local keeps a `host:` in the archive's path from ever making cpio reach for a remote host.
 */
export async function packInitramfs(cpio: string, stage: string, archive: string): Promise<void> {
  const members = await initramfsMembers(stage);
  // prettier-ignore
  await run(cpio, [
    '--create', '--format=newc', '--owner=0:0', '--reproducible', '--quiet', '--force-local',
    '-D', stage, '-O', path.resolve(archive),
  ], { input: members.map((member) => `${member}\n`).join('') });
}

/** SYSLINUX's configuration: boot the one kernel at once, its own messages on COM1 too. */
export function syslinuxConfig(commandLine = GUEST_KERNEL_COMMAND_LINE): string {
  return [
    'SERIAL 0 115200',
    'DEFAULT nimbus',
    'PROMPT 0',
    'TIMEOUT 0',
    'LABEL nimbus',
    '  LINUX /vmlinuz',
    '  INITRD /initrd.gz',
    `  APPEND ${commandLine}`,
    '',
  ].join('\n');
}

const MIB = 1024 * 1024;

/**
 * Builds the image into `imagesDir`, replacing any older build, from the newest kernel under /boot
 * and its modules. It is rebuilt on every call (a second or two) and so can never be stale; the file
 * appears by rename, so a reader sees the old image or the new one, never half of one. The scratch
 * files live in a folder of their own inside `imagesDir` and are removed. Returns the qcow2 path.
 */
export async function buildGuestImage(
  imagesDir: string,
  kernelDirs: { readonly bootDir?: string; readonly modulesRoot?: string } = {},
): Promise<string> {
  const tools = await findTools(GUEST_TOOLS, 'cannot build the guest image');
  requireRoot();
  const kernel = await findKernel(kernelDirs.bootDir, kernelDirs.modulesRoot);
  const init = await readFile(await findGuestInit());
  const busybox = await readFile(tools.busybox);
  if (!isStaticElf(busybox))
    throw new Error(`${tools.busybox} is linked dynamically; install the Debian package busybox-static`);
  await mkdir(imagesDir, { recursive: true });
  const image = path.join(imagesDir, GUEST_IMAGE_NAME);
  const scratch = await mkdtemp(path.join(imagesDir, '.nimbus-guest-'));
  const partial = `${image}.${process.pid}.tmp`;
  try {
    const order = moduleLoadOrder(
      await readFile(path.join(kernel.modulesDir, 'modules.dep'), 'utf8'),
      (await readIfExists(path.join(kernel.modulesDir, 'modules.builtin'))) ?? '',
      GUEST_MODULES,
    );
    const modules = [];
    for (const module of order)
      modules.push({
        name: module.name,
        data: await readKernelModule(module, kernel.modulesDir, scratch, tools.busybox),
      });
    const stage = path.join(scratch, 'initramfs');
    await stageInitramfs(stage, { init, busybox, modules }, tools.mknod);
    const archive = path.join(scratch, 'initrd.cpio');
    await packInitramfs(tools.cpio, stage, archive);
    const initrd = path.join(scratch, 'initrd.gz');
    await writeFile(initrd, gzipSync(await readFile(archive), { level: 9 }));
    const raw = path.join(scratch, 'disk.raw');
    await writeBootDisk(tools, raw, kernel.vmlinuz, initrd, scratch);
    await run(tools.qemuImg, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, partial]);
    await rename(partial, image);
  } finally {
    await rm(partial, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
  return image;
}

/**
 * A FAT "superfloppy" (no partition table) sized to its files with 1 MiB to spare, written through
 * mtools with no mount: SYSLINUX's boot sector in sector 0, which SeaBIOS loads from the disk.
 */
async function writeBootDisk(
  tools: GuestTools,
  raw: string,
  vmlinuz: string,
  initrd: string,
  scratch: string,
): Promise<void> {
  const config = path.join(scratch, 'syslinux.cfg');
  await writeFile(config, syslinuxConfig());
  const payload = (await stat(vmlinuz)).size + (await stat(initrd)).size;
  const sizeMiB = Math.ceil(payload / MIB) + 1;
  await run(tools.mkfsFat, ['-C', '-n', 'NIMBUS', raw, String(sizeMiB * 1024)]);
  await run(tools.mcopy, ['-i', raw, vmlinuz, '::/vmlinuz']);
  await run(tools.mcopy, ['-i', raw, initrd, '::/initrd.gz']);
  await run(tools.mcopy, ['-i', raw, config, '::/syslinux.cfg']);
  await run(tools.syslinux, ['--install', raw]);
}

// The guest's console lines (guest-image/init.sh prints them; a spec checks it still does).

export const GUEST_LINE_PREFIX = 'nimbus-guest: ';
export const GUEST_READY_LINE = `${GUEST_LINE_PREFIX}ready`;
export const GUEST_METADATA_UNAVAILABLE_LINE = `${GUEST_LINE_PREFIX}metadata unavailable`;
/** `nimbus-guest: eth0 address 10.0.0.5/24 gateway 10.0.0.1`, the gateway `none` when there is none. */
export const GUEST_ADDRESS_LINE =
  /^nimbus-guest: (\S+) address (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2}) gateway (\S+)$/;
export const GUEST_NO_LEASE_LINE = /^nimbus-guest: (\S+) no DHCP lease$/;
export const GUEST_HOSTNAME_LINE = /^nimbus-guest: metadata hostname (\S+)$/;
export const GUEST_NO_HOSTNAME_LINE = /^nimbus-guest: metadata without hostname$/;
export const GUEST_PUBLIC_KEY_LINE = /^nimbus-guest: metadata public key (.+)$/;
/** The user data's first line, printable ASCII only, at most 200 characters (maybe none). */
export const GUEST_USER_DATA_LINE = /^nimbus-guest: user data(?: |$)(.*)$/;

export interface GuestAddress {
  readonly nic: string;
  readonly ip: string;
  readonly prefix: number;
  /** Absent when the lease gave no default route. */
  readonly gateway?: string;
}

export interface GuestConsole {
  /** The boot banner was printed. */
  readonly booted: boolean;
  readonly address?: GuestAddress;
  /** DHCP gave up on this NIC. */
  readonly noLeaseOn?: string;
  /** `available` once meta_data.json was read, with or without a hostname. */
  readonly metadata?: 'available' | 'unavailable';
  readonly hostname?: string;
  readonly publicKeys: readonly string[];
  /** The first line of the user data, when there was any. */
  readonly userData?: string;
  /** /init got to its end and now only stays alive. */
  readonly ready: boolean;
}

/**
 * What a console log says about the guest's latest boot (the log may hold earlier ones: the part
 * before the last banner is ignored). Lines may end in CRLF and sit among the kernel's own.
 */
export function parseGuestConsole(log: string): GuestConsole {
  const lines = log.split('\n').map((line) => line.trim());
  const start = lines.lastIndexOf(BOOT_BANNER);
  const publicKeys: string[] = [];
  const seen: { -readonly [K in keyof GuestConsole]: GuestConsole[K] } = {
    booted: start >= 0,
    publicKeys,
    ready: false,
  };
  for (const line of lines.slice(start + 1)) {
    let groups: string[] | undefined;
    if ((groups = captures(GUEST_ADDRESS_LINE, line))) {
      const [nic = '', ip = '', prefix = '', gateway = 'none'] = groups;
      seen.address = { nic, ip, prefix: Number(prefix), ...(gateway === 'none' ? {} : { gateway }) };
    } else if ((groups = captures(GUEST_NO_LEASE_LINE, line))) {
      seen.noLeaseOn = groups.join('');
    } else if ((groups = captures(GUEST_HOSTNAME_LINE, line))) {
      seen.metadata = 'available';
      seen.hostname = groups.join('');
    } else if (GUEST_NO_HOSTNAME_LINE.test(line)) {
      seen.metadata = 'available';
    } else if (line === GUEST_METADATA_UNAVAILABLE_LINE) {
      seen.metadata = 'unavailable';
    } else if ((groups = captures(GUEST_PUBLIC_KEY_LINE, line))) {
      publicKeys.push(groups.join(''));
    } else if ((groups = captures(GUEST_USER_DATA_LINE, line))) {
      seen.userData = groups.join('');
    } else if (line === GUEST_READY_LINE) {
      seen.ready = true;
    }
  }
  return seen;
}

/** The groups `pattern` captures from `line` (each of these patterns has one or more), or undefined. */
function captures(pattern: RegExp, line: string): string[] | undefined {
  return pattern.exec(line)?.slice(1);
}
