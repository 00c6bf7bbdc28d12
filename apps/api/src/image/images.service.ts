/**
 * The image API's logic (Glance v2 subset): who sees which image (own project's, public and community ones;
 * admins and services see all), create, upload with checksums, download, delete, and the lookup a server
 * boot makes. Records are events (`image-<uuid>`); bytes are files (ImageFiles).
 * Must never leave a half-written image active: the record turns active only after the bytes are renamed
 * into place, and a failed upload puts it back to queued.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { IMAGE_PROPERTY_RULES, type ImageVisibility, PATTERNS, streamFor } from '#libs/contracts';
import {
  type ImageAttributes,
  type ImageState,
  ImageNotFound,
  decideActivate,
  decideCreateImage,
  decideDeleteImage,
  decideStartUpload,
  decideUpdateImage,
  decideUploadFailed,
  imageAttributesOf,
  imageReducer,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import type { ApiConfig } from '../config/api.config.js';
import { projectUnderPolicy } from '../common/auth/owner.js';
import { canWrite, isAdmin, isService, type Principal } from '../common/auth/principal.js';
import { ApiError, badRequest, forbidden } from '../common/http/api-error.js';
import { ReadModelHub } from '../common/store/read-model-hub.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { ImageCatalog } from './image-catalog.js';
import { ImageFiles, ImageTooLarge } from './image-files.js';
import { CORE_ATTRIBUTES, type CreateImageBody, READ_ONLY_ATTRIBUTES } from './image.schemas.js';

export interface ImagePage {
  readonly images: readonly ImageState[];
  /** The last image of a full page, for the `next` link. */
  readonly nextMarker: string | null;
}

export interface ImageQuery {
  readonly limit: number;
  readonly marker?: string;
  readonly name?: string;
  readonly status?: string;
  readonly visibility?: string;
  readonly owner?: string;
  readonly id?: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly attributes?: ImageAttributeFilter;
}

/** Glance's filters on an image's own attributes; each one given must hold (tags: every one). */
export interface ImageAttributeFilter {
  readonly diskFormat: string | undefined;
  readonly containerFormat: string | undefined;
  readonly checksum: string | undefined;
  readonly size: number | undefined;
  readonly sizeMin: number | undefined;
  readonly sizeMax: number | undefined;
  readonly protected: boolean | undefined;
  readonly tags: readonly string[];
}

function matches(image: ImageState, filter: ImageAttributeFilter): boolean {
  const size = image.size;
  return (
    (filter.diskFormat === undefined || image.diskFormat === filter.diskFormat) &&
    (filter.containerFormat === undefined || image.containerFormat === filter.containerFormat) &&
    (filter.checksum === undefined || image.checksum === filter.checksum) &&
    (filter.size === undefined || size === filter.size) &&
    (filter.sizeMin === undefined || (size !== null && size >= filter.sizeMin)) &&
    (filter.sizeMax === undefined || (size !== null && size <= filter.sizeMax)) &&
    (filter.protected === undefined || image.protected === filter.protected) &&
    filter.tags.every((tag) => image.tags.includes(tag))
  );
}

@Injectable()
export class ImagesService {
  private readonly logger = new Logger(ImagesService.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly store: EventStore,
    private readonly catalog: ImageCatalog,
    private readonly hub: ReadModelHub,
    private readonly files: ImageFiles,
  ) {}

  /** Whether the principal may see the image at all (others get 404, as if it did not exist). */
  canSee(principal: Principal, image: ImageState): boolean {
    return (
      isAdmin(principal) ||
      isService(principal) ||
      image.owner === principal.projectId ||
      image.visibility === 'public' ||
      image.visibility === 'community'
    );
  }

  /**
   * Its owner's members and admins may change an image. The compute service may only fill or drop a
   * server's snapshot while it has no data yet, never touch any other image.
   */
  private canModify(principal: Principal, image: ImageState): boolean {
    const unfilledSnapshot =
      Object.hasOwn(image.properties, 'instance_uuid') &&
      (image.status === 'queued' || image.status === 'saving');
    return (
      isAdmin(principal) ||
      (isService(principal) && unfilledSnapshot) ||
      (image.owner === principal.projectId && canWrite(principal))
    );
  }

  list(principal: Principal, query: ImageQuery): ImagePage {
    let images = this.catalog
      .all()
      .filter((image) =>
        query.visibility === undefined
          ? this.canSee(principal, image) &&
            (image.visibility !== 'community' || image.owner === principal.projectId)
          : this.canSee(principal, image) && image.visibility === query.visibility,
      );
    if (query.name !== undefined) images = images.filter((image) => image.name === query.name);
    if (query.status !== undefined) images = images.filter((image) => image.status === query.status);
    if (query.owner !== undefined) images = images.filter((image) => image.owner === query.owner);
    if (query.id !== undefined) images = images.filter((image) => image.id === query.id);
    const { attributes } = query;
    if (attributes) images = images.filter((image) => matches(image, attributes));
    for (const [key, value] of Object.entries(query.properties)) {
      images = images.filter((image) => image.properties[key] === value);
    }
    if (query.marker !== undefined) {
      const index = images.findIndex((image) => image.id === query.marker);
      if (index < 0) throw badRequest(`Invalid marker. Image ${query.marker} could not be found.`);
      images = images.slice(index + 1);
    }
    const page = images.slice(0, query.limit);
    const full = page.length === query.limit && images.length > query.limit;
    return { images: page, nextMarker: full ? (page.at(-1)?.id ?? null) : null };
  }

  show(principal: Principal, imageId: string): ImageState {
    const image = PATTERNS.uuid.test(imageId) ? this.catalog.get(imageId) : undefined;
    if (!image || !this.canSee(principal, image)) throw new ImageNotFound(imageId);
    return image;
  }

  async create(principal: Principal, body: CreateImageBody, context: EventContext): Promise<ImageState> {
    for (const attribute of READ_ONLY_ATTRIBUTES) {
      if (Object.hasOwn(body, attribute)) throw forbidden(`Attribute '${attribute}' is read-only.`);
    }
    const properties: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) {
      if (CORE_ATTRIBUTES.has(key)) continue;
      if (key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
      if (!IMAGE_PROPERTY_RULES.keyPattern.test(key) || typeof value !== 'string') {
        throw badRequest(
          `Provided object does not match schema 'image': invalid property ${JSON.stringify(key.slice(0, 64))}`,
        );
      }
      properties[key] = value;
    }
    const visibility: ImageVisibility = body.visibility ?? 'shared';
    if (visibility === 'public' && !isAdmin(principal)) {
      throw forbidden('You are not authorized to complete publicize_image action.');
    }
    const owner = projectUnderPolicy(principal, body.owner ?? undefined, () =>
      forbidden("You are not permitted to create images owned by 'another project'."),
    );
    const imageId = (body.id ?? randomUUID()).toLowerCase();
    if (this.catalog.get(imageId))
      throw new ApiError(409, `Image with identifier ${imageId} already exists!`);
    return this.record(imageId, context, {
      owner,
      name: body.name ?? null,
      visibility,
      diskFormat: body.disk_format ?? null,
      containerFormat: body.container_format ?? null,
      minDisk: body.min_disk ?? 0,
      minRam: body.min_ram ?? 0,
      protected: body.protected ?? false,
      properties,
      tags: body.tags ?? [],
    });
  }

  /** Records an image owned by `owner` without a principal (seeding). */
  async record(
    imageId: string,
    context: EventContext,
    fields: Omit<Parameters<typeof decideCreateImage>[1], 'imageId'>,
  ): Promise<ImageState> {
    const { appended } = await this.store.execute(
      streamFor('image', imageId),
      imageReducer,
      (state) => decideCreateImage(state, { imageId, ...fields }),
      context,
    );
    await this.hub.waitFor(appended?.position);
    const image = this.catalog.get(imageId);
    if (!image) throw new Error(`image ${imageId} was recorded but the catalog does not show it`);
    return image;
  }

  /** Checks that the principal may upload to the image, before any byte is read. */
  checkUpload(principal: Principal, imageId: string, declaredLength: number | null): void {
    const image = this.show(principal, imageId);
    if (!this.canModify(principal, image))
      throw forbidden('You are not permitted to upload data for this image.');
    if (declaredLength !== null && declaredLength > this.config.maxImageBytes) {
      throw new ApiError(
        413,
        `Image exceeds the storage quota: the limit is ${this.config.maxImageBytes} bytes.`,
      );
    }
  }

  /** Streams the data in and activates the image; a failure leaves it queued for another attempt. */
  async upload(imageId: string, data: Readable, context: EventContext): Promise<void> {
    const stream = streamFor('image', imageId);
    await this.store.execute(stream, imageReducer, (state) => decideStartUpload(state, imageId), context);
    let stored;
    try {
      stored = await this.files.write(imageId, data, this.config.maxImageBytes);
    } catch (error) {
      const reason = error instanceof ImageTooLarge ? error.message : 'the upload did not complete';
      await this.store
        .execute(stream, imageReducer, (state) => decideUploadFailed(state, imageId, reason), context)
        .catch((failure: unknown) =>
          this.logger.warn(`image ${imageId}: could not record the failed upload: ${String(failure)}`),
        );
      if (error instanceof ImageTooLarge)
        throw new ApiError(413, `Image exceeds the storage quota: ${error.message}.`);
      throw new ApiError(400, 'The image upload did not complete.');
    }
    try {
      const { appended } = await this.store.execute(
        stream,
        imageReducer,
        (state) =>
          decideActivate(state, {
            imageId,
            size: stored.size,
            checksum: stored.md5,
            hashAlgo: 'sha512',
            hashValue: stored.sha512,
          }),
        context,
      );
      await this.hub.waitFor(appended?.position);
    } catch (error) {
      // Deleted while the bytes arrived: they belong to nothing now.
      await this.files.remove(imageId);
      throw error;
    }
  }

  async download(
    principal: Principal,
    imageId: string,
  ): Promise<{ image: ImageState; data: Readable; size: number } | null> {
    const image = this.show(principal, imageId);
    if (image.status !== 'active') return null;
    const file = await this.files.read(imageId);
    if (!file) throw new ApiError(404, `Image ${imageId} has no data.`);
    return { image, data: file.stream, size: file.size };
  }

  /**
   * Changes the image's own attributes (its owner or an admin; 403 otherwise): `change` maps the folded
   * attributes to the new ones, and an ImageUpdated records them unless nothing changed.
   */
  async update(
    principal: Principal,
    imageId: string,
    change: (attributes: ImageAttributes) => ImageAttributes,
    context: EventContext,
  ): Promise<ImageState> {
    const image = this.show(principal, imageId);
    if (!this.canModify(principal, image)) throw forbidden('You are not permitted to modify this image.');
    const { appended } = await this.store.execute(
      streamFor('image', imageId),
      imageReducer,
      (state) => decideUpdateImage(state, imageId, change(imageAttributesOf(state))),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return this.show(principal, imageId);
  }

  /** Deletes the image and its data, as asked by whoever may (below), or by the system itself. */
  async discard(imageId: string, context: EventContext): Promise<void> {
    const { appended } = await this.store.execute(
      streamFor('image', imageId),
      imageReducer,
      (state) => decideDeleteImage(state, imageId),
      context,
    );
    await this.hub.waitFor(appended?.position);
    await this.files.remove(imageId);
  }

  async delete(principal: Principal, imageId: string, context: EventContext): Promise<void> {
    const image = this.show(principal, imageId);
    if (!this.canModify(principal, image)) throw forbidden('You are not permitted to delete this image.');
    await this.discard(imageId, context);
  }

  /** The image of that id whoever may see it, for the system's own use (a snapshot's base). */
  known(imageId: string): ImageState | undefined {
    return this.catalog.get(imageId);
  }

  /** Images named `name` owned by `owner`, for idempotent seeding. */
  findOwned(owner: string, name: string): ImageState | undefined {
    return this.catalog.all().find((image) => image.owner === owner && image.name === name);
  }

  /** The image a boot asks for: visible to the principal and active (Nova's 400s otherwise). */
  resolveForBoot(principal: Principal, imageId: string): ImageState {
    const image = PATTERNS.uuid.test(imageId) ? this.catalog.get(imageId) : undefined;
    if (!image || !this.canSee(principal, image)) throw badRequest('Can not find requested image');
    if (image.status !== 'active') throw badRequest(`Image ${imageId} is not active.`);
    return image;
  }
}
