/**
 * Keystone's identity bodies (domains, projects, users, roles, tags), as far as Nimbus keeps them:
 * top-level projects of a domain, users created enabled. What Keystone would store and Nimbus cannot
 * (a parent project, a user created disabled, extra attributes) is refused with a 400 rather than
 * dropped, so nobody believes a user disabled that is not.
 */
import type { Schema } from '../common/validation/schema.js';

const DOMAIN_ID: Schema = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' };
const ENABLED: Schema = { type: 'boolean', enum: [true] };

/** Keystone's project tag: 1-255 characters, neither `/` nor `,`. */
export const PROJECT_TAG: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^/,]+$' };
const PROJECT_TAGS: Schema = { type: 'array', maxItems: 80, items: PROJECT_TAG };

export interface CreateProjectBody {
  readonly project: {
    readonly name: string;
    readonly description?: string;
    readonly enabled?: boolean;
    readonly tags?: readonly string[];
    readonly domain_id?: string;
    readonly parent_id?: string | null;
  };
}

export const CREATE_PROJECT: Schema = {
  type: 'object',
  properties: {
    project: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S(.*\\S)?$' },
        description: { type: 'string', maxLength: 255 },
        domain_id: DOMAIN_ID,
        parent_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        enabled: { type: 'boolean' },
        is_domain: { type: 'boolean', enum: [false] },
        tags: PROJECT_TAGS,
        options: { type: 'object', maxProperties: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['project'],
  additionalProperties: false,
};

export interface CreateUserBody {
  readonly user: {
    readonly name: string;
    readonly password?: string | null;
    readonly default_project_id?: string | null;
    readonly domain_id?: string;
    readonly description?: string;
    readonly email?: string;
  };
}

export const CREATE_USER: Schema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' },
        password: { type: ['string', 'null'], minLength: 1, maxLength: 4096 },
        default_project_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        domain_id: DOMAIN_ID,
        enabled: ENABLED,
        description: { type: 'string', maxLength: 255 },
        email: { type: 'string', maxLength: 255 },
        options: { type: 'object', maxProperties: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['user'],
  additionalProperties: false,
};

export interface UpdateProjectBody {
  readonly project: {
    readonly name?: string;
    readonly description?: string | null;
    readonly enabled?: boolean;
    readonly tags?: readonly string[];
  };
}

/** `PATCH /v3/projects/{id}`: the name, the description, enabling and disabling, the tags. */
export const UPDATE_PROJECT: Schema = {
  type: 'object',
  properties: {
    project: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S(.*\\S)?$' },
        description: { type: ['string', 'null'], maxLength: 255 },
        enabled: { type: 'boolean' },
        tags: PROJECT_TAGS,
      },
      additionalProperties: false,
    },
  },
  required: ['project'],
  additionalProperties: false,
};

export interface CreateDomainBody {
  readonly domain: { readonly name: string; readonly description?: string; readonly enabled?: boolean };
}

export const CREATE_DOMAIN: Schema = {
  type: 'object',
  properties: {
    domain: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S(.*\\S)?$' },
        description: { type: 'string', maxLength: 255 },
        enabled: { type: 'boolean' },
        tags: { type: 'array', maxItems: 0 },
        options: { type: 'object', maxProperties: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['domain'],
  additionalProperties: false,
};

export interface UpdateDomainBody {
  readonly domain: {
    readonly name?: string;
    readonly description?: string | null;
    readonly enabled?: boolean;
  };
}

/** `PATCH /v3/domains/{id}`: the name, the description, enabling and disabling. */
export const UPDATE_DOMAIN: Schema = {
  type: 'object',
  properties: {
    domain: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64 },
        description: { type: ['string', 'null'], maxLength: 255 },
        enabled: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  },
  required: ['domain'],
  additionalProperties: false,
};

export interface CreateRoleBody {
  readonly role: { readonly name: string; readonly description?: string };
}

/** `POST /v3/roles`: a global role (no domain), named as roles are written. */
export const CREATE_ROLE: Schema = {
  type: 'object',
  properties: {
    role: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.-]+$' },
        description: { type: 'string', maxLength: 255 },
        domain_id: { type: 'null' },
        options: { type: 'object', maxProperties: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['role'],
  additionalProperties: false,
};

export interface ProjectTagsBody {
  readonly tags: readonly string[];
}

/** `PUT /v3/projects/{id}/tags`: the whole list. */
export const PROJECT_TAGS_BODY: Schema = {
  type: 'object',
  properties: { tags: PROJECT_TAGS },
  required: ['tags'],
  additionalProperties: false,
};

export interface UpdateUserBody {
  readonly user: {
    readonly name?: string;
    readonly enabled?: boolean;
    readonly password?: string;
    readonly default_project_id?: string | null;
    readonly description?: string | null;
    readonly email?: string | null;
  };
}

/**
 * `PATCH /v3/users/{id}`: the name, enabling, disabling, an admin's password reset, the default
 * project, the description and email.
 */
export const UPDATE_USER: Schema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' },
        enabled: { type: 'boolean' },
        password: { type: 'string', minLength: 1, maxLength: 4096 },
        default_project_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        description: { type: ['string', 'null'], maxLength: 255 },
        email: { type: ['string', 'null'], maxLength: 255 },
      },
      minProperties: 1,
      additionalProperties: false,
    },
  },
  required: ['user'],
  additionalProperties: false,
};

export interface ChangePasswordBody {
  readonly user: { readonly password: string; readonly original_password: string };
}

/** `POST /v3/users/{id}/password`: a user's own change, proving the current password. */
export const CHANGE_PASSWORD: Schema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        password: { type: 'string', minLength: 1, maxLength: 4096 },
        original_password: { type: 'string', minLength: 1, maxLength: 4096 },
      },
      required: ['password', 'original_password'],
      additionalProperties: false,
    },
  },
  required: ['user'],
  additionalProperties: false,
};

export interface RoleRef {
  readonly id?: string;
  readonly name?: string;
}

export interface CreateApplicationCredentialBody {
  readonly application_credential: {
    readonly name: string;
    readonly description?: string | null;
    readonly secret?: string | null;
    readonly expires_at?: string | null;
    readonly roles?: readonly RoleRef[] | null;
    readonly unrestricted?: boolean | null;
  };
}

/**
 * `POST /v3/users/{id}/application_credentials`. Access rules (Keystone's per-call restrictions) are not
 * kept, so a request with any is refused rather than given a credential broader than it asked for.
 */
export const CREATE_APPLICATION_CREDENTIAL: Schema = {
  type: 'object',
  properties: {
    application_credential: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' },
        description: { type: ['string', 'null'], maxLength: 255 },
        secret: { type: ['string', 'null'], minLength: 1, maxLength: 4096 },
        expires_at: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        roles: {
          type: ['array', 'null'],
          maxItems: 16,
          items: {
            type: 'object',
            properties: {
              id: { type: 'string', minLength: 1, maxLength: 64 },
              name: { type: 'string', minLength: 1, maxLength: 255 },
              domain_id: { type: ['string', 'null'], maxLength: 64 },
            },
            minProperties: 1,
            additionalProperties: false,
          },
        },
        unrestricted: { type: ['boolean', 'null'] },
        access_rules: { type: ['array', 'null'], maxItems: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['application_credential'],
  additionalProperties: false,
};
