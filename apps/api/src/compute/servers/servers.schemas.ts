/**
 * Request bodies of the servers API per microversion, after Nova's: create (description from 2.19,
 * networks required and typed from 2.37, tags from 2.52, personality gone from 2.57, trusted certificates
 * from 2.63, host and hypervisor_hostname from 2.74, hostname from 2.90), update, and the actions Nimbus
 * implements. Unknown members are refused as Nova refuses them.
 */
import { MIN_MICROVERSION, type Microversion } from '../../common/http/microversion.js';
import {
  BOOLEAN,
  DESCRIPTION,
  FLAVOR_REF,
  IMAGE_REF,
  METADATA,
  NAME,
  POSITIVE_INTEGER,
  UUID,
} from '../../common/validation/parameter-types.js';
import type { Schema } from '../../common/validation/schema.js';
import {
  NETWORKS_REQUIRED,
  NETWORK_DEVICE_TAGS,
  NETWORK_DEVICE_TAGS_RESTORED,
  PERSONALITY_REMOVED,
  REQUESTED_HOST,
  SERVER_DESCRIPTION,
  SERVER_HOSTNAME,
  SERVER_TAGS_ON_CREATE,
  TRUSTED_CERTIFICATES,
  WEBMKS_CONSOLES,
} from '../microversions.js';

const HINTS: Schema = {
  type: 'object',
  properties: {
    group: { type: 'string', format: 'uuid' },
    different_host: {
      oneOf: [
        { type: 'string', format: 'uuid' },
        { type: 'array', items: UUID },
      ],
    },
    same_host: { type: ['string', 'array'], items: UUID },
    query: { type: ['string', 'object'] },
    target_cell: NAME,
    different_cell: { type: ['string', 'array'], items: { type: 'string' } },
    build_near_host_ip: { type: 'string', format: 'ipv4' },
    cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
  additionalProperties: true,
};

const NETWORK_ENTRY = (version: Microversion): Schema => ({
  type: 'object',
  properties: {
    fixed_ip: { type: 'string', format: 'ipv4' },
    port: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] },
    uuid: version.atLeast(NETWORKS_REQUIRED) ? { type: 'string', format: 'uuid' } : { type: 'string' },
    ...(version.atLeast(NETWORK_DEVICE_TAGS) && !version.atLeast(NETWORKS_REQUIRED)
      ? { tag: { type: 'string', maxLength: 60, pattern: '^[^,/]*$' } }
      : {}),
    ...(version.atLeast(NETWORK_DEVICE_TAGS_RESTORED)
      ? { tag: { type: 'string', maxLength: 60, pattern: '^[^,/]*$' } }
      : {}),
  },
  additionalProperties: false,
});

const BLOCK_DEVICE: Schema = { type: 'object' };

export function createServerSchema(version: Microversion): Schema {
  const networks: Schema = version.atLeast(NETWORKS_REQUIRED)
    ? {
        oneOf: [
          { type: 'array', items: NETWORK_ENTRY(version) },
          { type: 'string', enum: ['none', 'auto'] },
        ],
      }
    : { type: 'array', items: NETWORK_ENTRY(version) };
  const properties: Record<string, Schema> = {
    name: NAME,
    imageRef: { oneOf: [IMAGE_REF, { type: 'string', maxLength: 0 }] },
    flavorRef: FLAVOR_REF,
    adminPass: { type: 'string' },
    metadata: METADATA,
    networks,
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' },
    availability_zone: NAME,
    block_device_mapping: { type: 'array', items: BLOCK_DEVICE },
    block_device_mapping_v2: { type: 'array', items: BLOCK_DEVICE },
    config_drive: BOOLEAN,
    key_name: NAME,
    min_count: POSITIVE_INTEGER,
    max_count: POSITIVE_INTEGER,
    return_reservation_id: BOOLEAN,
    security_groups: {
      type: 'array',
      items: { type: 'object', properties: { name: NAME }, additionalProperties: false },
    },
    user_data: { type: 'string', format: 'base64', maxLength: 65_535 },
  };
  if (!version.atLeast(PERSONALITY_REMOVED)) {
    properties['personality'] = {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, contents: { type: 'string', format: 'base64' } },
        additionalProperties: false,
      },
    };
  }
  if (version.atLeast(SERVER_DESCRIPTION)) properties['description'] = DESCRIPTION;
  if (version.atLeast(SERVER_TAGS_ON_CREATE)) {
    properties['tags'] = {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' },
      maxItems: 50,
    };
  }
  if (version.atLeast(TRUSTED_CERTIFICATES)) {
    properties['trusted_image_certificates'] = {
      type: ['array', 'null'],
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
    };
  }
  if (version.atLeast(REQUESTED_HOST)) {
    properties['host'] = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
    properties['hypervisor_hostname'] = {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[a-zA-Z0-9-._]*$',
    };
  }
  if (version.atLeast(SERVER_HOSTNAME)) {
    properties['hostname'] = {
      type: 'string',
      minLength: 2,
      maxLength: 255,
      pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-._]*[a-zA-Z0-9]+$',
    };
  }
  return {
    type: 'object',
    properties: {
      server: {
        type: 'object',
        properties,
        required: version.atLeast(NETWORKS_REQUIRED)
          ? ['name', 'flavorRef', 'networks']
          : ['name', 'flavorRef'],
        additionalProperties: false,
      },
      'os:scheduler_hints': HINTS,
      'OS-SCH-HNT:scheduler_hints': HINTS,
    },
    required: ['server'],
    additionalProperties: false,
  };
}

type NetworkEntry = { readonly uuid?: string; readonly port?: string | null; readonly fixed_ip?: string };

export interface CreateServerBody {
  readonly server: {
    readonly name: string;
    readonly imageRef?: string;
    readonly flavorRef: string | number;
    readonly metadata?: Readonly<Record<string, string>>;
    readonly networks?: readonly NetworkEntry[] | 'none' | 'auto';
    readonly 'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
    readonly availability_zone?: string;
    readonly block_device_mapping?: readonly unknown[];
    readonly block_device_mapping_v2?: readonly unknown[];
    readonly key_name?: string;
    /** Echoed back as Nova does; no driver here sets a guest's password. */
    readonly adminPass?: string;
    readonly accessIPv4?: string;
    readonly accessIPv6?: string;
    readonly min_count?: number | string;
    readonly max_count?: number | string;
    readonly return_reservation_id?: boolean | string;
    readonly security_groups?: readonly { readonly name?: string }[];
    readonly description?: string | null;
    readonly tags?: readonly string[];
    readonly trusted_image_certificates?: readonly string[] | null;
    readonly host?: string;
    readonly hypervisor_hostname?: string;
    readonly hostname?: string;
    /** Base64, for the metadata service to hand the guest. */
    readonly user_data?: string;
  };
  readonly 'os:scheduler_hints'?: { readonly group?: string };
  readonly 'OS-SCH-HNT:scheduler_hints'?: { readonly group?: string };
}

export function updateServerSchema(version: Microversion): Schema {
  return {
    type: 'object',
    properties: {
      server: {
        type: 'object',
        properties: {
          name: NAME,
          'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
          accessIPv4: { type: 'string', format: 'ipv4' },
          accessIPv6: { type: 'string', format: 'ipv6' },
          ...(version.atLeast(SERVER_DESCRIPTION) ? { description: DESCRIPTION } : {}),
          ...(version.atLeast(SERVER_HOSTNAME)
            ? {
                hostname: {
                  type: 'string',
                  minLength: 2,
                  maxLength: 255,
                  pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-._]*[a-zA-Z0-9]+$',
                },
              }
            : {}),
        },
        additionalProperties: false,
      },
    },
    required: ['server'],
    additionalProperties: false,
  };
}

export interface UpdateServerBody {
  readonly server: {
    readonly name?: string;
    readonly description?: string | null;
    readonly hostname?: string;
    readonly accessIPv4?: string;
    readonly accessIPv6?: string;
  };
}

export interface RebuildServerBody {
  readonly rebuild: {
    readonly imageRef: string;
    readonly name?: string;
    readonly metadata?: Readonly<Record<string, string>>;
    readonly adminPass?: string;
    readonly accessIPv4?: string;
    readonly accessIPv6?: string;
    readonly description?: string | null;
  };
}

/**
 * `rebuild`: a new image for the same server, and what Nova lets the same request change (name,
 * metadata, access addresses, password; the description from 2.19). What Nimbus has no use for
 * (`preserve_ephemeral`: there is no ephemeral disk; the disk config) is accepted as Nova accepts it.
 */
export function rebuildServerSchema(version: Microversion): Schema {
  return {
    type: 'object',
    properties: {
      rebuild: {
        type: 'object',
        properties: {
          imageRef: IMAGE_REF,
          name: NAME,
          metadata: METADATA,
          adminPass: { type: 'string' },
          accessIPv4: { type: 'string', format: 'ipv4' },
          accessIPv6: { type: 'string', format: 'ipv6' },
          'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
          preserve_ephemeral: BOOLEAN,
          ...(version.atLeast(SERVER_DESCRIPTION) ? { description: DESCRIPTION } : {}),
        },
        required: ['imageRef'],
        additionalProperties: false,
      },
    },
    required: ['rebuild'],
    additionalProperties: false,
  };
}

/** The actions `POST /servers/{id}/action` knows, each with its own body schema. */
export const ACTION_SCHEMAS: Readonly<Record<string, Schema>> = {
  // Ranged by microversion: the controller asks rebuildServerSchema for the request's.
  rebuild: rebuildServerSchema(MIN_MICROVERSION),
  'os-start': {
    type: 'object',
    properties: { 'os-start': { type: ['null', 'object'] } },
    required: ['os-start'],
    additionalProperties: false,
  },
  'os-stop': {
    type: 'object',
    properties: { 'os-stop': { type: ['null', 'object'] } },
    required: ['os-stop'],
    additionalProperties: false,
  },
  resize: {
    type: 'object',
    properties: {
      resize: {
        type: 'object',
        properties: {
          flavorRef: { type: ['string', 'integer'], minLength: 1 },
          'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        },
        required: ['flavorRef'],
        additionalProperties: false,
      },
    },
    required: ['resize'],
    additionalProperties: false,
  },
  confirmResize: {
    type: 'object',
    properties: { confirmResize: { type: ['null', 'object'] } },
    required: ['confirmResize'],
    additionalProperties: false,
  },
  revertResize: {
    type: 'object',
    properties: { revertResize: { type: ['null', 'object'] } },
    required: ['revertResize'],
    additionalProperties: false,
  },
  createImage: {
    type: 'object',
    properties: {
      createImage: {
        type: 'object',
        properties: { name: NAME, metadata: METADATA },
        required: ['name'],
        additionalProperties: false,
      },
    },
    required: ['createImage'],
    additionalProperties: false,
  },
  lock: {
    type: 'object',
    properties: {
      lock: {
        type: ['null', 'object'],
        properties: { locked_reason: { type: 'string', minLength: 1, maxLength: 255 } },
        additionalProperties: false,
      },
    },
    required: ['lock'],
    additionalProperties: false,
  },
  unlock: {
    type: 'object',
    properties: { unlock: { type: ['null', 'object'] } },
    required: ['unlock'],
    additionalProperties: false,
  },
  reboot: {
    type: 'object',
    properties: {
      reboot: {
        type: 'object',
        properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } },
        required: ['type'],
        additionalProperties: false,
      },
    },
    required: ['reboot'],
    additionalProperties: false,
  },
  'os-getConsoleOutput': {
    type: 'object',
    properties: {
      'os-getConsoleOutput': {
        type: 'object',
        properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } },
        additionalProperties: false,
      },
    },
    required: ['os-getConsoleOutput'],
    additionalProperties: false,
  },
  'os-getVNCConsole': {
    type: 'object',
    properties: {
      'os-getVNCConsole': {
        type: 'object',
        properties: { type: { type: 'string', enum: ['novnc', 'xvpvnc'] } },
        required: ['type'],
        additionalProperties: false,
      },
    },
    required: ['os-getVNCConsole'],
    additionalProperties: false,
  },
  ...legacyConsoleSchema('os-getSPICEConsole', 'spice-html5'),
  ...legacyConsoleSchema('os-getRDPConsole', 'rdp-html5'),
  ...legacyConsoleSchema('os-getSerialConsole', 'serial'),
};

/** The legacy console actions of the types Nimbus has no proxy for: each names its one type. */
function legacyConsoleSchema(action: string, type: string): Record<string, Schema> {
  return {
    [action]: {
      type: 'object',
      properties: {
        [action]: {
          type: 'object',
          properties: { type: { type: 'string', enum: [type] } },
          required: ['type'],
          additionalProperties: false,
        },
      },
      required: [action],
      additionalProperties: false,
    },
  };
}

export function remoteConsoleSchema(version: Microversion): Schema {
  const protocols = version.atLeast(WEBMKS_CONSOLES)
    ? ['vnc', 'spice', 'rdp', 'serial', 'mks']
    : ['vnc', 'spice', 'rdp', 'serial'];
  const types = version.atLeast(WEBMKS_CONSOLES)
    ? ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial', 'webmks']
    : ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial'];
  return {
    type: 'object',
    properties: {
      remote_console: {
        type: 'object',
        properties: { protocol: { type: 'string', enum: protocols }, type: { type: 'string', enum: types } },
        required: ['protocol', 'type'],
        additionalProperties: false,
      },
    },
    required: ['remote_console'],
    additionalProperties: false,
  };
}

export interface RemoteConsoleBody {
  readonly remote_console: { readonly protocol: string; readonly type: string };
}
