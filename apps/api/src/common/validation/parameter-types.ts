/**
 * Schema fragments that recur across the compute API, with Nova's limits: names, descriptions, ids,
 * metadata, counts. Written from the API reference's parameter descriptions.
 */
import type { Schema } from './schema.js';

/** Printable, 1-255 characters, no leading or trailing whitespace. */
export const NAME: Schema = { type: 'string', minLength: 1, maxLength: 255, format: 'name' };

/** Nova's description: printable text up to 255 characters, or null. */
export const DESCRIPTION: Schema = {
  type: ['string', 'null'],
  minLength: 0,
  maxLength: 255,
  pattern: '^[^\\p{Cc}\\p{Cs}]*$',
};

export const UUID: Schema = { type: 'string', format: 'uuid' };

/** A positive count given as a number or a numeric string, as Nova accepts min_count and max_count. */
export const POSITIVE_INTEGER: Schema = {
  type: ['integer', 'string'],
  pattern: '^[0-9]*$',
  minimum: 1,
  minLength: 1,
};

export const NON_NEGATIVE_INTEGER: Schema = {
  type: ['integer', 'string'],
  pattern: '^[0-9]*$',
  minimum: 0,
  minLength: 1,
};

/** Nova's boolean: JSON booleans and the strings oslo's bool_from_string reads strictly. */
export const BOOLEAN: Schema = {
  type: ['boolean', 'string'],
  enum: [
    true,
    'True',
    'TRUE',
    'true',
    '1',
    'ON',
    'On',
    'on',
    'YES',
    'Yes',
    'yes',
    false,
    'False',
    'FALSE',
    'false',
    '0',
    'OFF',
    'Off',
    'off',
    'NO',
    'No',
    'no',
  ],
};

export const METADATA: Schema = {
  type: 'object',
  patternProperties: {
    '^[a-zA-Z0-9_:. -]{1,255}$': { type: 'string', maxLength: 255 },
  },
  additionalProperties: false,
};

export const IMAGE_REF: Schema = { type: 'string', minLength: 1, maxLength: 255 };

/** `flavorRef`: an id or a link; Nova allows any non-empty string up to 255. */
export const FLAVOR_REF: Schema = { type: ['string', 'integer'], minLength: 1, maxLength: 255 };

export const truthy = (value: unknown): boolean =>
  value === true || (typeof value === 'string' && ['true', '1', 'on', 'yes'].includes(value.toLowerCase()));
