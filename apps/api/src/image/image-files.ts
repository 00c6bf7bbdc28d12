/**
 * Where image bytes live: one file per image in the image folder (`<data dir>/images` unless
 * configured; API replicas share one, as Glance's replicas share a file store), written to a temporary name while
 * the upload streams in (hashed on the way: size, MD5 for Glance's `checksum`, SHA-512 for
 * `os_hash_value`) and renamed into place only when complete, so a reader never sees a partial image.
 * Must never build a path from anything but a validated image id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { PATTERNS } from '#libs/contracts';

export interface StoredImageData {
  readonly size: number;
  readonly md5: string;
  readonly sha512: string;
}

/** The upload was larger than allowed; nothing was kept. */
export class ImageTooLarge extends Error {
  override readonly name = 'ImageTooLarge';
}

export class ImageFiles {
  constructor(private readonly directory: string) {}

  private pathOf(imageId: string): string {
    if (!PATTERNS.uuid.test(imageId)) throw new Error('not an image id');
    return join(this.directory, imageId);
  }

  /** Streams `data` into the image's file, hashing as it goes; refuses more than `maxBytes`. */
  async write(imageId: string, data: Readable, maxBytes: number): Promise<StoredImageData> {
    await mkdir(this.directory, { recursive: true });
    const target = this.pathOf(imageId);
    const partial = `${target}.partial-${randomUUID()}`;
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new ImageTooLarge(`the image is larger than ${maxBytes} bytes`));
          return;
        }
        md5.update(chunk);
        sha512.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(data, hasher, createWriteStream(partial, { mode: 0o640 }));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { size, md5: md5.digest('hex'), sha512: sha512.digest('hex') };
  }

  async read(imageId: string): Promise<{ stream: ReadStream; size: number } | null> {
    const path = this.pathOf(imageId);
    try {
      const info = await stat(path);
      return { stream: createReadStream(path), size: info.size };
    } catch {
      return null;
    }
  }

  async remove(imageId: string): Promise<void> {
    await rm(this.pathOf(imageId), { force: true });
  }
}
