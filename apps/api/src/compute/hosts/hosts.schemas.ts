/**
 * Bodies of `PUT /os-services/...`, per form: from 2.53 a service UUID with `status` (and
 * `disabled_reason`, `forced_down`); before it `enable`, `disable` or `disable-log-reason` with `host` and
 * `binary`, as Nova's schemas have them.
 */
import type { Schema } from '../../common/validation/schema.js';

const REASON: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\p{Cc}]*$' };

export const SERVICE_UPDATE_253: Schema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    disabled_reason: REASON,
    forced_down: { type: 'boolean' },
  },
  additionalProperties: false,
};

export interface ServiceUpdate253Body {
  readonly status?: 'enabled' | 'disabled';
  readonly disabled_reason?: string;
  readonly forced_down?: boolean;
}

export const SERVICE_LEGACY: Schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255 },
    binary: { type: 'string', minLength: 1, maxLength: 255 },
  },
  required: ['host', 'binary'],
  additionalProperties: false,
};

export const SERVICE_REASON_LEGACY: Schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255 },
    binary: { type: 'string', minLength: 1, maxLength: 255 },
    disabled_reason: REASON,
  },
  required: ['host', 'binary', 'disabled_reason'],
  additionalProperties: false,
};

export interface ServiceLegacyBody {
  readonly host: string;
  readonly binary: string;
  readonly disabled_reason?: string;
}
