/**
 * A host's image cache, filled over SFTP: an image is streamed to a partial file, checked (size and
 * checksum of the bytes sent, then `qemu-img info` on the host: qcow2, no backing file), made read-only
 * and renamed into place in one step. A cached file therefore only ever exists complete and verified,
 * which is why a later call only compares its size instead of hashing it again.
 * Must never leave a partial file under the final name, and never reuse a cached file whose size
 * differs from the source (it is replaced).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { ImageVerificationFailed } from '../errors.js';
import type { CachedImage, ImageChecksumAlgorithm, ImageSource } from '../hypervisor-driver.js';
import { statImageSource, verifyChecksum, verifySize, verifyStandaloneQcow2 } from '../image-source.js';
import type { LibvirtHostConfig } from './host-config.js';
import { cachedImagePath, partialImagePrefix } from './host-layout.js';
import {
  chmodRemote,
  readRemoteDir,
  replaceRemoteFile,
  statIfExists,
  unlinkIfExists,
  uploadFile,
} from './remote-files.js';
import type { HostSession } from './host-session.js';
import { parseQemuImgInfo } from './virsh-output.js';

/** Runs a command on the host and returns its stdout, throwing on a non-zero exit. */
export type RunOnHost = (argv: readonly string[], options?: { timeoutMs?: number }) => Promise<string>;

/** Base images are never written after they are cached: qemu opens them read-only as backing files. */
const CACHED_IMAGE_MODE = 0o444;

export async function ensureCachedImage(
  session: HostSession,
  host: LibvirtHostConfig,
  image: ImageSource,
  runOnHost: RunOnHost,
  log: (line: string) => void,
): Promise<CachedImage> {
  const source = await statImageSource(image);
  // A short or long source is refused before a byte is sent.
  verifySize(image, source.size);

  const target = cachedImagePath(host, image.id);
  const cached = await session.withSftp(`stat ${target}`, true, (sftp) => statIfExists(sftp, target));
  if (cached?.size === source.size) return { imageId: image.id, sizeBytes: source.size, uploaded: false };
  if (cached)
    log(`${host.name}: cached image ${image.id} is ${cached.size} bytes, not ${source.size}; replacing it`);

  await removePartials(session, host, image.id);
  const partial = path.posix.join(
    host.imageCacheDir,
    `${partialImagePrefix(image.id)}${randomBytes(6).toString('hex')}`,
  );
  try {
    const algorithms: ImageChecksumAlgorithm[] = image.checksum ? [image.checksum.algorithm] : [];
    // Not idempotent at this level: a lost connection fails the upload and the caller's retry starts over.
    const sent = await session.withSftp(`upload of image ${image.id}`, false, (sftp) =>
      uploadFile(sftp, image.sourcePath, partial, { mode: 0o600, algorithms }),
    );
    verifySize(image, sent.bytes);
    verifyChecksum(image, sent.digests);
    const landed = await session.withSftp(`stat ${partial}`, true, (sftp) => statIfExists(sftp, partial));
    if (landed?.size !== sent.bytes) {
      throw new ImageVerificationFailed(
        image.id,
        `${landed?.size ?? 0} of ${sent.bytes} bytes reached ${host.name}`,
      );
    }
    const info = parseQemuImgInfo(
      await runOnHost(['qemu-img', 'info', '--output=json', '-f', 'qcow2', partial]).catch(
        (error: unknown) => {
          throw new ImageVerificationFailed(image.id, `qemu-img cannot read it as qcow2 (${String(error)})`);
        },
      ),
    );
    verifyStandaloneQcow2(image.id, info.format, info.backingFile);
    await session.withSftp(`publish ${target}`, true, async (sftp) => {
      await chmodRemote(sftp, partial, CACHED_IMAGE_MODE);
      await replaceRemoteFile(sftp, partial, target);
    });
    log(`${host.name}: cached image ${image.id} (${sent.bytes} bytes)`);
    return { imageId: image.id, sizeBytes: sent.bytes, uploaded: true };
  } catch (error) {
    await session
      .withSftp(`remove ${partial}`, true, (sftp) => unlinkIfExists(sftp, partial))
      .catch(() => undefined);
    throw error;
  }
}

/** Partial files of this image left by an agent that died mid-upload. */
async function removePartials(session: HostSession, host: LibvirtHostConfig, imageId: string): Promise<void> {
  const prefix = partialImagePrefix(imageId);
  await session.withSftp(`clean ${host.imageCacheDir}`, true, async (sftp) => {
    for (const name of await readRemoteDir(sftp, host.imageCacheDir)) {
      if (name.startsWith(prefix)) await unlinkIfExists(sftp, path.posix.join(host.imageCacheDir, name));
    }
  });
}
