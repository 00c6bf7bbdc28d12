/**
 * The image aggregate: a Glance image's record as the fold of `image-<uuid>`, and the status transitions
 * Glance allows (queued → saving → active; a failed upload goes back to queued; delete from any of them).
 * Who may see or change an image (owner, visibility) is the API's policy, not this module's.
 * Pure: no I/O, no clock.
 */
import {
  type ContainerFormat,
  type DecodedEvent,
  type DiskFormat,
  ImageActivated,
  ImageCreated,
  ImageDeleted,
  type ImageEvent,
  ImageUpdated,
  ImageUploadFailed,
  ImageUploadStarted,
  type ImageVisibility,
  type Plain,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { ConflictingState, DomainError } from './errors.js';

export type ImageStatus = 'queued' | 'saving' | 'active' | 'deleted';

export class ImageNotFound extends DomainError {
  override readonly name = 'ImageNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly imageId: string) {
    super(`No image found with ID ${imageId}`);
  }
}

/** Glance refuses to delete a protected image (403). */
export class ImageProtected extends DomainError {
  override readonly name = 'ImageProtected';
  readonly code = 'Forbidden' as const;
  constructor(readonly imageId: string) {
    super(`Image ${imageId} is protected and cannot be deleted.`);
  }
}

export interface ImageState {
  readonly exists: boolean;
  readonly id: string;
  readonly status: ImageStatus;
  readonly owner: string;
  readonly name: string | null;
  readonly visibility: ImageVisibility;
  readonly diskFormat: DiskFormat | null;
  readonly containerFormat: ContainerFormat | null;
  readonly minDisk: number;
  readonly minRam: number;
  readonly protected: boolean;
  readonly properties: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  readonly size: number | null;
  readonly checksum: string | null;
  readonly hashAlgo: string | null;
  readonly hashValue: string | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export const initialImage = (): ImageState => ({
  exists: false,
  id: '',
  status: 'queued',
  owner: '',
  name: null,
  visibility: 'private',
  diskFormat: null,
  containerFormat: null,
  minDisk: 0,
  minRam: 0,
  protected: false,
  properties: {},
  tags: [],
  size: null,
  checksum: null,
  hashAlgo: null,
  hashValue: null,
  createdAt: null,
  updatedAt: null,
});

export function evolveImage(state: ImageState, event: DecodedEvent): ImageState {
  if (!isKnownEvent(event)) return state;
  const at = event.metadata.occurredAt;
  const imageEvent = event as ImageEvent;
  switch (imageEvent.type) {
    case 'ImageCreated': {
      const { imageId, ...fields } = imageEvent.data;
      return { ...initialImage(), ...fields, exists: true, id: imageId, createdAt: at, updatedAt: at };
    }
    case 'ImageUpdated': {
      const { imageId: _id, ...attributes } = imageEvent.data;
      return { ...state, ...attributes, updatedAt: at };
    }
    case 'ImageUploadStarted':
      return { ...state, status: 'saving', updatedAt: at };
    case 'ImageUploadFailed':
      return { ...state, status: 'queued', updatedAt: at };
    case 'ImageActivated': {
      const { size, checksum, hashAlgo, hashValue } = imageEvent.data;
      return { ...state, status: 'active', size, checksum, hashAlgo, hashValue, updatedAt: at };
    }
    case 'ImageDeleted':
      return { ...state, status: 'deleted', updatedAt: at };
  }
  return state;
}

export const imageReducer = { initial: initialImage, evolve: evolveImage };

function mustExist(state: ImageState, imageId: string): void {
  if (!state.exists || state.status === 'deleted') throw new ImageNotFound(imageId);
}

function transition(state: ImageState, to: ImageStatus): never {
  throw new ConflictingState(`Image status transition from ${state.status} to ${to} is not allowed`);
}

export function decideCreateImage(state: ImageState, fields: Plain<ImageCreated>): ImageCreated[] {
  if (state.exists) throw new ConflictingState(`Image with identifier ${fields.imageId} already exists!`);
  return [build(ImageCreated, fields)];
}

/** Data may be uploaded once, to a queued image (Glance answers 409 otherwise). */
export function decideStartUpload(state: ImageState, imageId: string): ImageUploadStarted[] {
  mustExist(state, imageId);
  if (state.status !== 'queued') transition(state, 'saving');
  return [build(ImageUploadStarted, { imageId })];
}

export function decideActivate(state: ImageState, stored: Plain<ImageActivated>): ImageActivated[] {
  mustExist(state, stored.imageId);
  if (state.status !== 'saving') transition(state, 'active');
  return [build(ImageActivated, stored)];
}

/** A failed upload of an image that was deleted meanwhile is nothing to record. */
export function decideUploadFailed(state: ImageState, imageId: string, reason: string): ImageUploadFailed[] {
  if (state.status !== 'saving') return [];
  return [build(ImageUploadFailed, { imageId, reason })];
}

/** The attributes an update may change: everything ImageUpdated carries. */
export type ImageAttributes = Omit<Plain<ImageUpdated>, 'imageId'>;

export function imageAttributesOf(state: ImageState): ImageAttributes {
  const { name, visibility, diskFormat, containerFormat, minDisk, minRam, properties, tags } = state;
  return {
    name,
    visibility,
    diskFormat,
    containerFormat,
    minDisk,
    minRam,
    protected: state.protected,
    properties,
    tags,
  };
}

/** Glance keeps the formats of an image that has data: they describe the bytes (403 otherwise). */
export class ImageFormatLocked extends DomainError {
  override readonly name = 'ImageFormatLocked';
  readonly code = 'Forbidden' as const;
  constructor(attribute: string) {
    super(`Attribute ${attribute} can be only replaced for a queued image.`);
  }
}

/** Records the image's attributes after an update; nothing when they are as they were. */
export function decideUpdateImage(state: ImageState, imageId: string, next: ImageAttributes): ImageUpdated[] {
  mustExist(state, imageId);
  const current = imageAttributesOf(state);
  if (JSON.stringify(current) === JSON.stringify(next)) return [];
  if (state.status !== 'queued') {
    if (next.diskFormat !== current.diskFormat) throw new ImageFormatLocked('disk_format');
    if (next.containerFormat !== current.containerFormat) throw new ImageFormatLocked('container_format');
  }
  return [build(ImageUpdated, { imageId, ...next })];
}

export function decideDeleteImage(state: ImageState, imageId: string): ImageDeleted[] {
  mustExist(state, imageId);
  if (state.protected) throw new ImageProtected(imageId);
  return [build(ImageDeleted, { imageId })];
}
