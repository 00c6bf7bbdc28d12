/**
 * Checks on an ImageSource before any byte moves, and the verdicts every driver applies to an image's
 * bytes (size, checksum, standalone qcow2), worded once so the real driver and the fake refuse the same
 * images with the same errors.
 * Must never trust a declared digest or size it has not compared, and never let a qcow2 with a backing
 * file of its own into a cache: its backing path would be resolved on the host, so a crafted image
 * could make a guest read any file the host user can (the attack behind Nova's base-image checks).
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

import { assertImageId } from './domain-spec.js';
import { ImageVerificationFailed, InvalidArgument } from './errors.js';
import type { ImageChecksumAlgorithm, ImageSource } from './hypervisor-driver.js';

const DIGEST_HEX_LENGTH: Readonly<Record<ImageChecksumAlgorithm, number>> = { sha256: 64, sha512: 128 };

export function validateImageSource(image: ImageSource): ImageSource {
  assertImageId(image.id);
  if (typeof image.sourcePath !== 'string' || !path.isAbsolute(image.sourcePath)) {
    throw new InvalidArgument('image sourcePath must be an absolute path');
  }
  if (image.sizeBytes !== undefined && (!Number.isSafeInteger(image.sizeBytes) || image.sizeBytes < 0)) {
    throw new InvalidArgument('image sizeBytes must be a non-negative integer');
  }
  if (image.checksum !== undefined) {
    const length = DIGEST_HEX_LENGTH[image.checksum.algorithm] as number | undefined;
    if (length === undefined) throw new InvalidArgument('image checksum algorithm must be sha256 or sha512');
    if (!new RegExp(`^[0-9a-f]{${length}}$`).test(image.checksum.hex)) {
      throw new InvalidArgument(`image checksum must be ${length} lowercase hex digits`);
    }
  }
  return image;
}

/** The source file's attributes; a missing or unreadable source, or one that is not a file, fails verification. */
export async function statImageSource(image: ImageSource): Promise<Stats> {
  const info = await stat(image.sourcePath).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ImageVerificationFailed(image.id, `its source ${image.sourcePath} cannot be read (${code})`);
  });
  if (!info.isFile())
    throw new ImageVerificationFailed(image.id, `its source ${image.sourcePath} is not a file`);
  return info;
}

/** Throws unless `actualBytes` is the declared size (when one was declared). */
export function verifySize(image: ImageSource, actualBytes: number): void {
  if (image.sizeBytes !== undefined && image.sizeBytes !== actualBytes) {
    throw new ImageVerificationFailed(
      image.id,
      `it is ${actualBytes} bytes, not the ${image.sizeBytes} declared`,
    );
  }
}

/** Throws unless the digest of the bytes matches the declared checksum (when one was declared). */
export function verifyChecksum(
  image: ImageSource,
  digests: ReadonlyMap<ImageChecksumAlgorithm, string>,
): void {
  if (image.checksum === undefined) return;
  const actual = digests.get(image.checksum.algorithm);
  if (actual !== image.checksum.hex) {
    throw new ImageVerificationFailed(
      image.id,
      `its ${image.checksum.algorithm} is ${actual ?? 'unknown'}, not the ${image.checksum.hex} declared`,
    );
  }
}

/** Throws unless the image is qcow2 with no backing file. */
export function verifyStandaloneQcow2(
  imageId: string,
  format: string,
  backingFile: string | undefined,
): void {
  if (format !== 'qcow2') throw new ImageVerificationFailed(imageId, `it is ${format}, not qcow2`);
  if (backingFile !== undefined) {
    throw new ImageVerificationFailed(
      imageId,
      'it has a backing file of its own; base images must stand alone',
    );
  }
}
