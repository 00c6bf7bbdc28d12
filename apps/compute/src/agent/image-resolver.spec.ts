import { describe, expect, it } from '@jest/globals';

import type { ImageSource } from '../hypervisor/index.js';
import { type ImageResolver, ImageUnavailable, RecentImages } from './image-resolver.js';

const IMAGE = '6b1e2d7a-0c3f-4c55-9a8e-2f4b6d8e0a11';
const OTHER = '0f9d8c7b-6a5e-4d3c-8b2a-1e0f9d8c7b6a';

/** A resolver that answers from a table it can be told to change, and counts what it was asked. */
class Catalogue implements ImageResolver {
  readonly asked: string[] = [];
  usable = new Set([IMAGE, OTHER]);

  resolve(imageId: string): Promise<ImageSource> {
    this.asked.push(imageId);
    if (!this.usable.has(imageId)) return Promise.reject(new ImageUnavailable(`image ${imageId} is gone`));
    return Promise.resolve({ id: imageId, sourcePath: `/images/${imageId}.qcow2` });
  }
}

describe(RecentImages.name, () => {
  it('asks once for a burst of boots of one image, and again once the answer is older than allowed', async () => {
    const catalogue = new Catalogue();
    let now = 0;
    const images = new RecentImages(catalogue, 5_000, () => now);
    const burst = [];
    for (let boot = 0; boot < 10; boot += 1) burst.push(await images.resolve(IMAGE));
    expect(burst.every((source) => source.sourcePath === `/images/${IMAGE}.qcow2`)).toBe(true);
    expect(catalogue.asked).toEqual([IMAGE]);

    now = 4_999;
    await images.resolve(IMAGE);
    expect(catalogue.asked).toEqual([IMAGE]);

    // Deleted meanwhile: the next check after the allowed age finds out.
    catalogue.usable.delete(IMAGE);
    now = 5_000;
    await expect(images.resolve(IMAGE)).rejects.toThrow(ImageUnavailable);
    expect(catalogue.asked).toEqual([IMAGE, IMAGE]);
  });

  it('never remembers a failure, and keeps each image apart', async () => {
    const catalogue = new Catalogue();
    catalogue.usable.delete(IMAGE);
    const images = new RecentImages(catalogue, 5_000, () => 0);
    await expect(images.resolve(IMAGE)).rejects.toThrow(ImageUnavailable);
    catalogue.usable.add(IMAGE);
    expect((await images.resolve(IMAGE)).id).toBe(IMAGE);
    expect((await images.resolve(OTHER)).id).toBe(OTHER);
    expect(catalogue.asked).toEqual([IMAGE, IMAGE, OTHER]);
  });
});
