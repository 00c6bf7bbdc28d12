/**
 * Where the agent finds the bytes of a base image on its own machine, before copying them to a
 * host's image cache. One implementation reads a folder of `<image id>.qcow2` files (the rig's
 * boot image, operators' local images); another downloads from the image API into a local cache.
 * Must never trust an image id it did not validate: ids become file names.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

import { PATTERNS } from '#libs/contracts';

import type { ImageSource } from '../hypervisor/index.js';

export interface ImageResolver {
  resolve(imageId: string): Promise<ImageSource>;
}

/** Where the agent puts the images it makes of servers' disks (`createImage`): the image service. */
export interface ImagePublisher {
  /** Uploads the file as the (queued) image's data; an image already active is left as it is. */
  publish(imageId: string, file: string): Promise<void>;
  /** Deletes the image a failed snapshot leaves without data. */
  discard(imageId: string): Promise<void>;
}

export class ImageUnavailable extends Error {
  override readonly name = 'ImageUnavailable';
}

/**
 * The image service could not be asked (refused, down, answering 5xx): no fault of the image nor of
 * the host the build was placed on, so the agent waits for the service rather than fail the build.
 */
export class ImageServiceUnreachable extends Error {
  override readonly name = 'ImageServiceUnreachable';
}

/** Refuses an image id that is not a lowercase UUID, before it becomes a file name or a URL path. */
export function checkImageId(imageId: string): void {
  if (!PATTERNS.uuid.test(imageId)) throw new ImageUnavailable(`invalid image id ${JSON.stringify(imageId)}`);
}

/** Images as files named after their id in one folder. */
export class DirectoryImageResolver implements ImageResolver {
  constructor(private readonly directory: string) {}

  async resolve(imageId: string): Promise<ImageSource> {
    checkImageId(imageId);
    const sourcePath = join(this.directory, `${imageId}.qcow2`);
    try {
      await access(sourcePath, constants.R_OK);
    } catch {
      throw new ImageUnavailable(`image ${imageId} is not available to this compute agent`);
    }
    return { id: imageId, sourcePath };
  }
}

/** Tries each resolver in turn. */
export class ChainedImageResolver implements ImageResolver {
  constructor(private readonly resolvers: readonly ImageResolver[]) {}

  async resolve(imageId: string): Promise<ImageSource> {
    let last: unknown = new ImageUnavailable(`image ${imageId} is not available to this compute agent`);
    let unreachable: unknown = null;
    for (const resolver of this.resolvers) {
      try {
        return await resolver.resolve(imageId);
      } catch (error) {
        last = error;
        if (error instanceof ImageServiceUnreachable) unreachable = error;
      }
    }
    // Not found here because a service could not be asked is a reason to wait, not to fail.
    throw unreachable ?? last;
  }
}

/**
 * Remembers for a short while each image another resolver found usable, so a burst of boots of one
 * image asks the image service once instead of once a boot. An active image's data never changes (the
 * image service takes data only once), so all a reuse risks is missing, for at most `freshMs`, that the
 * image was deactivated or deleted since: the API already refuses new boots of it. Failures are never
 * remembered, and neither are more than `MAX_REMEMBERED` images.
 */
export class RecentImages implements ImageResolver {
  private static readonly MAX_REMEMBERED = 1000;
  private readonly found = new Map<string, { readonly source: ImageSource; readonly at: number }>();

  constructor(
    private readonly resolver: ImageResolver,
    private readonly freshMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async resolve(imageId: string): Promise<ImageSource> {
    const kept = this.found.get(imageId);
    if (kept !== undefined && this.now() - kept.at < this.freshMs) return kept.source;
    const source = await this.resolver.resolve(imageId);
    this.found.delete(imageId);
    this.found.set(imageId, { source, at: this.now() });
    for (const oldest of this.found.keys()) {
      if (this.found.size <= RecentImages.MAX_REMEMBERED) break;
      this.found.delete(oldest);
    }
    return source;
  }
}
