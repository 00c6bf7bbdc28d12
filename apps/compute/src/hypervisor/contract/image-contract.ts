/**
 * The image part of the HypervisorDriver contract: a base image copied into a host's cache once and
 * reused, concurrent copies shared, declared sizes and checksums verified, anything but a standalone
 * qcow2 refused, and no spawn from an image not in the cache. Registered by driver-contract.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { ImageNotCached, ImageVerificationFailed } from '../errors.js';
import type { ContractContext } from './context.js';

export function describeImageContract(ctx: ContractContext, timeout: number): void {
  describe('images', () => {
    it(
      'copies an image into a host cache once, and reuses it afterwards',
      async () => {
        const { driver, host, image, fixture } = ctx;
        const size = (await readFile(image.sourcePath)).length;
        expect(await driver.ensureImage(host, image)).toEqual({
          imageId: image.id,
          sizeBytes: size,
          uploaded: true,
        });
        const identity = await fixture.cachedImageIdentity(host, image.id);
        expect(identity).toBeDefined();

        expect(await driver.ensureImage(host, { ...image, sizeBytes: size })).toEqual({
          imageId: image.id,
          sizeBytes: size,
          uploaded: false,
        });
        expect(await fixture.cachedImageIdentity(host, image.id)).toBe(identity);
      },
      timeout,
    );

    it(
      'lets concurrent calls for one image share a single copy',
      async () => {
        const { driver, host, image, fixture } = ctx;
        const other = { id: randomUUID(), sourcePath: image.sourcePath };
        const results = await Promise.all([driver.ensureImage(host, other), driver.ensureImage(host, other)]);
        expect(results.map((result) => result.uploaded).sort()).toEqual([false, true]);
        expect(await fixture.cachedImageIdentity(host, other.id)).toBeDefined();
      },
      timeout,
    );

    it(
      'verifies a declared size and checksum, and caches nothing that fails',
      async () => {
        const { driver, host, image, fixture } = ctx;
        const bytes = await readFile(image.sourcePath);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const wrongSize = { id: randomUUID(), sourcePath: image.sourcePath, sizeBytes: bytes.length + 1 };
        await expect(driver.ensureImage(host, wrongSize)).rejects.toBeInstanceOf(ImageVerificationFailed);
        const wrongSum = {
          id: randomUUID(),
          sourcePath: image.sourcePath,
          checksum: {
            algorithm: 'sha256' as const,
            hex: sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')),
          },
        };
        await expect(driver.ensureImage(host, wrongSum)).rejects.toBeInstanceOf(ImageVerificationFailed);
        for (const refused of [wrongSize, wrongSum]) {
          expect(await fixture.cachedImageIdentity(host, refused.id)).toBeUndefined();
        }

        const declared = {
          id: randomUUID(),
          sourcePath: image.sourcePath,
          sizeBytes: bytes.length,
          checksum: { algorithm: 'sha512' as const, hex: createHash('sha512').update(bytes).digest('hex') },
        };
        expect((await driver.ensureImage(host, declared)).uploaded).toBe(true);
      },
      timeout,
    );

    it(
      'refuses anything but a standalone qcow2: raw bytes, or a qcow2 with a backing file of its own',
      async () => {
        const { driver, host, image, fixture, scratch } = ctx;
        const raw = path.join(scratch, 'raw.img');
        await writeFile(raw, Buffer.alloc(4096, 0xeb));
        // The boot image with a backing file name written into its header: qemu would open /etc/passwd.
        const evil = Buffer.from(await readFile(image.sourcePath));
        const backing = Buffer.from('/etc/passwd');
        backing.copy(evil, 1024);
        evil.writeBigUInt64BE(1024n, 8);
        evil.writeUInt32BE(backing.length, 16);
        const evilPath = path.join(scratch, 'evil.qcow2');
        await writeFile(evilPath, evil);

        for (const sourcePath of [raw, evilPath]) {
          const refused = { id: randomUUID(), sourcePath };
          await expect(driver.ensureImage(host, refused)).rejects.toBeInstanceOf(ImageVerificationFailed);
          expect(await fixture.cachedImageIdentity(host, refused.id)).toBeUndefined();
        }
      },
      timeout,
    );

    it(
      'refuses to spawn a domain whose image is not in the cache',
      async () => {
        const { driver, host, newSpec } = ctx;
        await expect(driver.spawn(host, newSpec(randomUUID()))).rejects.toBeInstanceOf(ImageNotCached);
      },
      timeout,
    );
  });
}
