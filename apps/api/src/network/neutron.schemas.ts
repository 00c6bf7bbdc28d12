/**
 * The pieces the network API's body schemas are made of: Neutron's attribute kinds (text of 255
 * characters, flags, UUIDs, project ids, addresses) and its body shape, `{ "<resource>": {...} }` with
 * unknown attributes refused.
 */
import type { Schema } from '../common/validation/schema.js';

export const TEXT: Schema = { type: 'string', maxLength: 255 };
export const FLAG: Schema = { type: 'boolean' };
export const ID: Schema = { type: 'string', format: 'uuid' };
export const PROJECT: Schema = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' };
/** An IPv4 or IPv6 address as text; the domain parses it and names a bad one. */
export const IP: Schema = { type: 'string', minLength: 2, maxLength: 45 };

/** A body `{ "<resource>": {...} }` whose attributes are those given (none required unless named). */
export function resourceBody(
  resource: string,
  properties: Record<string, Schema>,
  required: string[] = [],
): Schema {
  return {
    type: 'object',
    properties: {
      [resource]: { type: 'object', properties, required, additionalProperties: false },
    },
    required: [resource],
    additionalProperties: false,
  };
}
