/** `POST /flavors` (admin), with Nova's limits; `description` from 2.55. */
import type { Microversion } from '../../common/http/microversion.js';
import type { Schema } from '../../common/validation/schema.js';
import { FLAVOR_DESCRIPTION } from '../microversions.js';

const MAX_INT = 2_147_483_647;

export function createFlavorSchema(version: Microversion): Schema {
  return {
    type: 'object',
    properties: {
      flavor: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' },
          id: {
            type: ['string', 'null'],
            minLength: 1,
            maxLength: 255,
            pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$',
          },
          ram: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: MAX_INT },
          vcpus: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: MAX_INT },
          disk: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0, maximum: MAX_INT },
          'OS-FLV-EXT-DATA:ephemeral': {
            type: ['integer', 'string'],
            pattern: '^[0-9]+$',
            minimum: 0,
            maximum: MAX_INT,
          },
          swap: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, maximum: MAX_INT },
          rxtx_factor: {
            type: ['number', 'string'],
            pattern: '^[0-9]+(\\.[0-9]+)?$',
            minimum: 0,
            maximum: 3.40282e38,
          },
          'os-flavor-access:is_public': { type: 'boolean' },
          ...(version.atLeast(FLAVOR_DESCRIPTION)
            ? { description: { type: ['string', 'null'], minLength: 0, maxLength: 65_535 } }
            : {}),
        },
        required: ['name', 'ram', 'vcpus', 'disk'],
        additionalProperties: false,
      },
    },
    required: ['flavor'],
    additionalProperties: false,
  };
}

export interface CreateFlavorBody {
  readonly flavor: {
    readonly name: string;
    readonly id?: string | null;
    readonly ram: number | string;
    readonly vcpus: number | string;
    readonly disk: number | string;
    readonly 'OS-FLV-EXT-DATA:ephemeral'?: number | string;
    readonly swap?: number | string;
    readonly rxtx_factor?: number | string;
    readonly 'os-flavor-access:is_public'?: boolean;
    readonly description?: string | null;
  };
}
