/** `POST /os-keypairs` per microversion: `type` from 2.2, `user_id` from 2.10, a required public key and wider names from 2.92. */
import type { Microversion } from '../../common/http/microversion.js';
import type { Schema } from '../../common/validation/schema.js';
import { KEYPAIRS_OF_OTHER_USERS, KEYPAIR_IMPORT_ONLY, KEYPAIR_TYPE } from '../microversions.js';

export function createKeypairSchema(version: Microversion): Schema {
  const v292 = version.atLeast(KEYPAIR_IMPORT_ONLY);
  return {
    type: 'object',
    properties: {
      keypair: {
        type: 'object',
        properties: {
          name: {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            format: 'name',
            pattern: v292 ? '^[a-zA-Z0-9 @._-]+$' : '^[a-zA-Z0-9 _-]+$',
          },
          public_key: { type: 'string', maxLength: 16_384 },
          ...(version.atLeast(KEYPAIR_TYPE) ? { type: { type: 'string', enum: ['ssh', 'x509'] } } : {}),
          ...(version.atLeast(KEYPAIRS_OF_OTHER_USERS)
            ? { user_id: { type: 'string', minLength: 1, maxLength: 64 } }
            : {}),
        },
        required: v292 ? ['name', 'public_key'] : ['name'],
        additionalProperties: false,
      },
    },
    required: ['keypair'],
    additionalProperties: false,
  };
}

export interface CreateKeypairBody {
  readonly keypair: {
    readonly name: string;
    readonly public_key?: string;
    readonly type?: 'ssh' | 'x509';
    readonly user_id?: string;
  };
}
