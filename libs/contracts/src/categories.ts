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
} as const satisfies Record<string, StreamCategorySpec>;

export type StreamCategory = keyof typeof STREAM_CATEGORIES;

export function isStreamCategory(value: string): value is StreamCategory {
  return Object.hasOwn(STREAM_CATEGORIES, value);
}
