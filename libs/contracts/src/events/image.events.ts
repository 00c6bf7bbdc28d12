/**
 * Events of the `image-<uuid>` stream: a Glance image's record (the bytes live on the API's disk, and
 * compute agents fetch them over the image API). Status follows Glance: queued on create, saving while
 * bytes arrive, active once they are stored with their checksums, deleted at the end.
 * Must never hold where on disk the bytes are: that is the image service's business, not a fact.
 */
import { ArrayMaxSize, ArrayUnique, IsArray, IsString, Length } from 'class-validator';

import { DomainEvent, eventCatalog } from '../registry.js';
import {
  IsBoundedInt,
  IsFlag,
  IsKeystoneId,
  IsLowercaseUuid,
  IsOneOf,
  IsPattern,
  IsStringMap,
  IsText,
  Nullable,
  compose,
} from '../validation.js';

export const IMAGE_VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type ImageVisibility = (typeof IMAGE_VISIBILITIES)[number];

/** Glance's default `disk_formats`. */
export const DISK_FORMATS = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** Glance's default `container_formats`. */
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export type ContainerFormat = (typeof CONTAINER_FORMATS)[number];

/** Extra image properties: Glance's 255-character keys, string values, a bound on their number. */
export const IMAGE_PROPERTY_RULES = {
  maxEntries: 128,
  keyPattern: /^[A-Za-z0-9_:.@-]{1,255}$/,
  maxValueLength: 65_535,
} as const;

function IsImageTags(): PropertyDecorator {
  return compose(
    IsArray({ message: '$property must be an array of tags' }),
    ArrayMaxSize(128, { message: '$property must hold at most 128 tags' }),
    ArrayUnique({ message: '$property must not repeat a tag' }),
    IsString({ each: true, message: 'each value in $property must be a string' }),
    Length(1, 255, { each: true, message: 'each value in $property must be 1-255 characters' }),
  );
}

/** An image's own attributes (not its data, owner or state): what a create sets, an update changes. */
export abstract class ImageAttributeFields {
  @Nullable()
  @IsText(0, 255)
  readonly name!: string | null;

  @IsOneOf(IMAGE_VISIBILITIES)
  readonly visibility!: ImageVisibility;

  @Nullable()
  @IsOneOf(DISK_FORMATS)
  readonly diskFormat!: DiskFormat | null;

  @Nullable()
  @IsOneOf(CONTAINER_FORMATS)
  readonly containerFormat!: ContainerFormat | null;

  /** GiB of root disk the image needs. */
  @IsBoundedInt(0)
  readonly minDisk!: number;

  /** MiB of memory the image needs. */
  @IsBoundedInt(0)
  readonly minRam!: number;

  @IsFlag()
  readonly protected!: boolean;

  @IsStringMap(IMAGE_PROPERTY_RULES)
  readonly properties!: Readonly<Record<string, string>>;

  @IsImageTags()
  readonly tags!: readonly string[];
}

/** `POST /v2/images`: the record exists, no bytes yet (status `queued`). */
@DomainEvent({ type: 'ImageCreated', version: 1, category: 'image' })
export class ImageCreated extends ImageAttributeFields {
  @IsLowercaseUuid()
  readonly imageId!: string;

  /** The owning project (Glance's `owner`), not necessarily who created it. */
  @IsKeystoneId()
  readonly owner!: string;
}

/** Bytes started to arrive (`PUT /v2/images/{id}/file`); status `saving`. */
@DomainEvent({ type: 'ImageUploadStarted', version: 1, category: 'image' })
export class ImageUploadStarted {
  @IsLowercaseUuid()
  readonly imageId!: string;
}

/** The upload broke off or was refused; Glance puts the image back to `queued` for another try. */
@DomainEvent({ type: 'ImageUploadFailed', version: 1, category: 'image' })
export class ImageUploadFailed {
  @IsLowercaseUuid()
  readonly imageId!: string;

  @IsText(1, 255)
  readonly reason!: string;
}

/** Every byte is stored; status `active`, with Glance's checksums. */
@DomainEvent({ type: 'ImageActivated', version: 1, category: 'image' })
export class ImageActivated {
  @IsLowercaseUuid()
  readonly imageId!: string;

  /** Bytes. Beyond 2^31: images are large, so the bound is JavaScript's safe integers. */
  @IsBoundedInt(0, Number.MAX_SAFE_INTEGER)
  readonly size!: number;

  /** Glance's legacy `checksum`: the MD5 of the data in hex. */
  @IsPattern(/^[0-9a-f]{32}$/, 'an MD5 digest in 32 lowercase hex characters', 32)
  readonly checksum!: string;

  @IsOneOf(['sha512'])
  readonly hashAlgo!: 'sha512';

  @IsPattern(/^[0-9a-f]{128}$/, 'a SHA-512 digest in 128 lowercase hex characters', 128)
  readonly hashValue!: string;
}

@DomainEvent({ type: 'ImageDeleted', version: 1, category: 'image' })
export class ImageDeleted {
  @IsLowercaseUuid()
  readonly imageId!: string;
}

/**
 * The image's own attributes after an update (`PATCH /v2/images/{id}`, tags added or removed): all of
 * them, not a difference, so a fold needs no history. The owner, status and data never change this way.
 */
@DomainEvent({ type: 'ImageUpdated', version: 1, category: 'image' })
export class ImageUpdated extends ImageAttributeFields {
  @IsLowercaseUuid()
  readonly imageId!: string;
}

export const IMAGE_EVENTS = eventCatalog('image', {
  ImageCreated,
  ImageUpdated,
  ImageUploadStarted,
  ImageUploadFailed,
  ImageActivated,
  ImageDeleted,
});
