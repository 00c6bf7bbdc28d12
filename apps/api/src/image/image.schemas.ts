/**
 * What `POST /v2/images` and the image list accept, after Glance's image schema: the core attributes with
 * their vocabularies and limits, extra properties as strings, and the read-only attributes refused.
 */
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_VISIBILITIES } from '#libs/contracts';

import type { Schema } from '../common/validation/schema.js';

/** Attributes only Glance sets; naming one in a create is Glance's 403. */
export const READ_ONLY_ATTRIBUTES = [
  'status',
  'checksum',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'os_hash_algo',
  'os_hash_value',
] as const;

export const CREATE_IMAGE: Schema = {
  type: 'object',
  properties: {
    // Glance's own pattern, any case (the id is stored lowercase, as PATTERNS.uuid has it): its text is
    // quoted in the 400 for a bad id, so it stays Glance's rather than derived.
    id: {
      type: 'string',
      pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    },
    name: { type: ['null', 'string'], maxLength: 255 },
    visibility: { type: 'string', enum: [...IMAGE_VISIBILITIES] },
    disk_format: { type: ['null', 'string'], enum: [null, ...DISK_FORMATS] },
    container_format: { type: ['null', 'string'], enum: [null, ...CONTAINER_FORMATS] },
    min_disk: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
    min_ram: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
    protected: { type: 'boolean' },
    os_hidden: { type: 'boolean', enum: [false] },
    owner: { type: ['null', 'string'], maxLength: 255 },
    tags: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 255 },
      maxItems: 128,
      uniqueItems: true,
    },
  },
  // Extra properties: string values; their names are checked against the contract's key rule.
  additionalProperties: { type: 'string', maxLength: 65_535 },
  maxProperties: 160,
};

export interface CreateImageBody {
  readonly id?: string;
  readonly name?: string | null;
  readonly visibility?: (typeof IMAGE_VISIBILITIES)[number];
  readonly disk_format?: (typeof DISK_FORMATS)[number] | null;
  readonly container_format?: (typeof CONTAINER_FORMATS)[number] | null;
  readonly min_disk?: number;
  readonly min_ram?: number;
  readonly protected?: boolean;
  readonly os_hidden?: boolean;
  readonly owner?: string | null;
  readonly tags?: readonly string[];
  readonly [property: string]: unknown;
}

export const CORE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id',
  'name',
  'visibility',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'protected',
  'os_hidden',
  'owner',
  'tags',
]);
