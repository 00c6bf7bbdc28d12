/**
 * Events of the `quota-<project id>` stream: an administrator's per-project quota limits of the
 * compute API (`PUT /os-quota-sets/{project_id}`) and of the network API. A limit never set is the configured default; -1 is unlimited.
 * Must never record usage: usage is counted from what exists, so it cannot drift from it.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
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

/** An administrator's per-project limits of the network API (`PUT /v2.0/quotas/{project_id}`). */
@DomainEvent({ type: 'NetworkQuotaLimitsSet', version: 2, category: 'quota' })
export class NetworkQuotaLimitsSet {
  @IsKeystoneId()
  readonly projectId!: string;

  @Optional()
  @IsBoundedInt(-1)
  readonly networks?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly subnets?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly ports?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly securityGroups?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly securityGroupRules?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly routers?: number;

  @Optional()
  @IsBoundedInt(-1)
  readonly floatingIps?: number;
}

// v2 added the router and floating IP limits; a v1 event sets none of them.
registerUpcaster('NetworkQuotaLimitsSet', 1, (v1) => v1);

export const QUOTA_EVENTS = eventCatalog('quota', { QuotaLimitsSet, NetworkQuotaLimitsSet });
