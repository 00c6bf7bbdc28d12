/**
 * The subset of Keystone's `POST /v3/auth/tokens` body Nimbus accepts: password (user by id, or by name
 * in a domain given by id or name), token or application credential (by id, or by name and user)
 * authentication, scoped to a project by id or by name in a domain (an application credential brings its
 * own). Unknown members are refused, as Keystone's own schema refuses them.
 */
import type { Schema } from '../common/validation/schema.js';

const DOMAIN: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
  },
  additionalProperties: false,
};

/** A user or a project, named by id, or by name within a domain. */
const REF_IN_DOMAIN: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    domain: DOMAIN,
  },
  additionalProperties: false,
};

export const AUTH_REQUEST: Schema = {
  type: 'object',
  properties: {
    auth: {
      type: 'object',
      properties: {
        identity: {
          type: 'object',
          properties: {
            methods: {
              type: 'array',
              items: { type: 'string', enum: ['password', 'token', 'application_credential'] },
              minItems: 1,
              maxItems: 2,
              uniqueItems: true,
            },
            password: {
              type: 'object',
              properties: {
                user: {
                  ...REF_IN_DOMAIN,
                  properties: { ...REF_IN_DOMAIN.properties, password: { type: 'string', maxLength: 4096 } },
                  required: ['password'],
                },
              },
              required: ['user'],
              additionalProperties: false,
            },
            token: {
              type: 'object',
              properties: { id: { type: 'string', minLength: 1, maxLength: 2048 } },
              required: ['id'],
              additionalProperties: false,
            },
            application_credential: {
              type: 'object',
              properties: {
                id: { type: 'string', minLength: 1, maxLength: 64 },
                name: { type: 'string', minLength: 1, maxLength: 255 },
                secret: { type: 'string', maxLength: 4096 },
                user: REF_IN_DOMAIN,
              },
              required: ['secret'],
              additionalProperties: false,
            },
          },
          required: ['methods'],
          additionalProperties: false,
        },
        // `"unscoped"` asks for an unscoped token even when the user has a default project, as the
        // dashboard does at login before it picks a project.
        scope: {
          oneOf: [
            { type: 'string', enum: ['unscoped'] },
            {
              type: 'object',
              properties: {
                project: REF_IN_DOMAIN,
                // Domain and system scopes are asked for (the dashboard tries the domain at every login) and
                // refused with Keystone's 401 for users without a role there, which is every user here.
                domain: DOMAIN,
                system: {
                  type: 'object',
                  properties: { all: { type: 'boolean' } },
                  additionalProperties: false,
                },
              },
              maxProperties: 1,
              additionalProperties: false,
            },
          ],
        },
      },
      required: ['identity'],
      additionalProperties: false,
    },
  },
  required: ['auth'],
  additionalProperties: false,
};

interface DomainRef {
  readonly id?: string;
  readonly name?: string;
}

interface UserRef {
  readonly id?: string;
  readonly name?: string;
  readonly domain?: DomainRef;
}

export interface AuthRequest {
  readonly auth: {
    readonly identity: {
      readonly methods: readonly ('password' | 'token' | 'application_credential')[];
      readonly password?: {
        readonly user: {
          readonly id?: string;
          readonly name?: string;
          readonly password: string;
          readonly domain?: DomainRef;
        };
      };
      readonly token?: { readonly id: string };
      readonly application_credential?: {
        readonly id?: string;
        readonly name?: string;
        readonly secret: string;
        readonly user?: UserRef;
      };
    };
    readonly scope?:
      | 'unscoped'
      | {
          readonly project?: { readonly id?: string; readonly name?: string; readonly domain?: DomainRef };
          readonly domain?: DomainRef;
          readonly system?: { readonly all?: boolean };
        };
  };
}
