/**
 * The image read model: every image's state, folded in memory from `image-` streams with the domain's
 * reducer, for lists, lookups by name (clients resolve `--image NAME` with `?name=`) and boot requests.
 */
import { Injectable } from '@nestjs/common';

import { type ImageState, evolveImage, initialImage } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../common/store/read-model-hub.js';

@Injectable()
export class ImageCatalog implements ReadModel {
  readonly streamPrefixes = ['image-'];
  private readonly images = new Map<string, ImageState>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    const id = event.stream.slice('image-'.length);
    this.images.set(id, evolveImage(this.images.get(id) ?? initialImage(), event));
  }

  /** A live (not deleted) image. */
  get(imageId: string): ImageState | undefined {
    const image = this.images.get(imageId);
    return image?.exists && image.status !== 'deleted' ? image : undefined;
  }

  /** Live images, newest first (Glance's default order: created_at desc, then id desc). */
  all(): ImageState[] {
    return [...this.images.values()]
      .filter((image) => image.exists && image.status !== 'deleted')
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id));
  }
}
