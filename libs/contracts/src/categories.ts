/**
 * The stream categories: for each, the payload property that names an event's stream and the shape of a
 * valid stream id. Stream names, NATS subjects and the registry all read this table.
 * Must never hold a category name with a `-` or `.`: EventStoreDB's category projection splits stream names
 * at the first `-`, and NATS splits subjects at `.`.
 */
import { PATTERNS } from './validation.js';

export interface StreamCategorySpec {
  /** The payload property every event of the category carries, whose value is the stream id. */
  readonly idProperty: string;
  readonly idPattern: RegExp;
  readonly idDescription: string;
}

/** Keystone's token audit ids: 16 random bytes in URL-safe base64 without padding. */
export const TOKEN_AUDIT_ID = /^[A-Za-z0-9_-]{22}$/;

export const STREAM_CATEGORIES = {
  instance: { idProperty: 'instanceId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  host: {
    idProperty: 'host',
    idPattern: PATTERNS.hostName,
    idDescription: 'a host name (one lowercase DNS label)',
  },
  /** Keyed by the token's SHA-256 so the proxy can point-read it; the token itself is never stored. */
  console: {
    idProperty: 'tokenHash',
    idPattern: PATTERNS.sha256Hex,
    idDescription: 'the SHA-256 of a console token in 64 lowercase hex characters',
  },
  /** Keystone domains an admin made; `default` has no stream. */
  domain: {
    idProperty: 'domainId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone id (1-64 letters, digits, _ or -)',
  },
  /** Keystone projects; the API's identity subset is their only writer. */
  project: {
    idProperty: 'projectId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone id (1-64 letters, digits, _ or -)',
  },
  /** A Keystone user and the roles it holds on projects. */
  user: {
    idProperty: 'userId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone id (1-64 letters, digits, _ or -)',
  },
  /** A role an admin made; the built-in ones have no stream. */
  role: {
    idProperty: 'roleId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone id (1-64 letters, digits, _ or -)',
  },
  /** A revoked token, keyed by its audit id; the token itself is never stored. */
  token: {
    idProperty: 'auditId',
    idPattern: TOKEN_AUDIT_ID,
    idDescription: 'a token audit id (22 characters of URL-safe base64)',
  },
  image: { idProperty: 'imageId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  flavor: {
    idProperty: 'flavorId',
    idPattern: PATTERNS.flavorId,
    idDescription: 'a flavor id (letters, digits, ".", "_", "-", inner spaces)',
  },
  /** One stream per user holds all of that user's key pairs (Nova's key pairs belong to a user). */
  keypair: {
    idProperty: 'userId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone user id (1-64 letters, digits, _ or -)',
  },
  servergroup: { idProperty: 'serverGroupId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  /** A project's quota limits where they differ from the configured defaults. */
  quota: {
    idProperty: 'projectId',
    idPattern: PATTERNS.keystoneId,
    idDescription: 'a Keystone project id (1-64 letters, digits, _ or -)',
  },
  /** A network with its subnets and ports, so one stream's fold decides every address in it. */
  network: { idProperty: 'networkId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  /** A security group with its rules. */
  secgroup: { idProperty: 'securityGroupId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  /** A router's attributes, routes and gateway; its ports are on their networks' streams. */
  router: { idProperty: 'routerId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
  /** A floating IP and what it points at; its address is a port on the external network's stream. */
  floatingip: { idProperty: 'floatingIpId', idPattern: PATTERNS.uuid, idDescription: 'a lowercase UUID' },
} as const satisfies Record<string, StreamCategorySpec>;

export type StreamCategory = keyof typeof STREAM_CATEGORIES;

export function isStreamCategory(value: string): value is StreamCategory {
  return Object.hasOwn(STREAM_CATEGORIES, value);
}
