/**
 * Events of the `quota-<project id>` stream: an administrator's per-project quota limits
 * (`PUT /os-quota-sets/{project_id}`). A limit never set is the configured default; -1 is unlimited.
 * Must never record usage: usage is counted from what exists, so it cannot drift from it.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsBoundedInt, IsKeystoneId, Optional } from '../validation.js';

@DomainEvent({ type: 'QuotaLimitsSet', version: 1, category: 'quota' })
export class QuotaLimitsSet {
  @IsKeystoneId()
  readonly projectId!: string;

  @Optional()
  @IsBoundedInt(-1)
  readonly instances?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly cores?: number;

  /** MiB. */
  @Optional()
  @IsBoundedInt(-1)
  readonly ramMb?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly keyPairs?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly serverGroups?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly serverGroupMembers?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly metadataItems?: number;
}

export const QUOTA_EVENTS = eventCatalog('quota', { QuotaLimitsSet });
