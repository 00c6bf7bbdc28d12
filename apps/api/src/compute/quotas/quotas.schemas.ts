/**
 * Quota names as Nova spells them, the legacy ones it still lists, and the body of
 * `PUT /os-quota-sets/{project}`.
 */
import type { QuotaLimits } from '#libs/domain';

import type { Schema } from '../../common/validation/schema.js';

/** Nova's quota names and the limits Nimbus keeps for them. */
export const QUOTA_NAMES: Readonly<Record<string, keyof QuotaLimits>> = {
  instances: 'instances',
  cores: 'cores',
  ram: 'ramMb',
  key_pairs: 'keyPairs',
  server_groups: 'serverGroups',
  server_group_members: 'serverGroupMembers',
  metadata_items: 'metadataItems',
};

/** Quotas Nova still lists but Nimbus does not enforce, at Nova's defaults. */
export const LEGACY_QUOTAS = {
  fixed_ips: -1,
  floating_ips: 10,
  security_group_rules: 20,
  security_groups: 10,
  injected_file_content_bytes: 10_240,
  injected_file_path_bytes: 255,
  injected_files: 5,
} as const;

export const UPDATE_QUOTAS: Schema = {
  type: 'object',
  properties: {
    quota_set: {
      type: 'object',
      properties: {
        ...Object.fromEntries(
          [...Object.keys(QUOTA_NAMES), ...Object.keys(LEGACY_QUOTAS)].map((name) => [
            name,
            { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 2_147_483_647 },
          ]),
        ),
        force: { type: ['boolean', 'string'] },
      },
      additionalProperties: false,
    },
  },
  required: ['quota_set'],
  additionalProperties: false,
};

export interface UpdateQuotasBody {
  readonly quota_set: Readonly<Record<string, number | string | boolean>>;
}

/** The limits a quota update changes (legacy names are accepted and ignored, as Nimbus does not keep them). */
export function quotaChangesOf(request: UpdateQuotasBody['quota_set']): Partial<QuotaLimits> {
  const changes: Partial<Record<keyof QuotaLimits, number>> = {};
  for (const [name, key] of Object.entries(QUOTA_NAMES)) {
    const value = request[name];
    if (value !== undefined) changes[key] = Number(value);
  }
  return changes;
}
