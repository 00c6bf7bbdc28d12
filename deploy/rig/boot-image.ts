// Builds the project's boot image from its committed source, boot-image/boot.asm: nasm assembles the
// 512-byte boot sector, qemu-img wraps it as the qcow2 base that overlays are made on.
// It must never download an image or write outside the images folder it is given.

import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { run } from './exec.js';
import { findRigFile } from './files.js';

/** The line the guest prints on screen and on COM1; boot.asm holds the same text (a spec checks). */
export const BOOT_BANNER = 'Nimbus guest booted';

export const BOOT_IMAGE_NAME = 'nimbus-boot.qcow2';

/** The assembly source, beside this module or in the repository above a compiled copy of it. */
export function findBootSource(moduleDir = path.dirname(fileURLToPath(import.meta.url))): Promise<string> {
  return findRigFile(path.join('boot-image', 'boot.asm'), moduleDir);
}

export interface BootImageTools {
  readonly nasm: string;
  readonly qemuImg: string;
}

/**
 * Assembles and converts the image into `imagesDir`, replacing any older build. It is rebuilt on
 * every call because it takes milliseconds and so can never be stale; the file appears by rename,
 * so a reader sees the old image or the new one, never half of one. Returns the qcow2 path.
 */
export async function buildBootImage(tools: BootImageTools, imagesDir: string): Promise<string> {
  const source = await findBootSource();
  await mkdir(imagesDir, { recursive: true });
  const raw = path.join(imagesDir, 'nimbus-boot.bin');
  const image = path.join(imagesDir, BOOT_IMAGE_NAME);
  const partial = `${image}.${process.pid}.tmp`;
  await run(tools.nasm, ['-f', 'bin', '-o', raw, source]);
  try {
    await run(tools.qemuImg, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, partial]);
    // A one-sector disk is too small for SeaBIOS to boot from over virtio; a 1 MiB virtual size
    // (still a few hundred bytes on disk) lets flavors with a 0 GB root disk boot the image as is.
    await run(tools.qemuImg, ['resize', '-q', '-f', 'qcow2', partial, '1M']);
    await rename(partial, image);
  } finally {
    await rm(partial, { force: true });
  }
  return image;
}
