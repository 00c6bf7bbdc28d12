/**
 * Quotas: each project's limits (configured defaults, overridden by an admin) and its usage, counted from
 * the server projection, so usage can never drift from what exists. The boot check itself is the
 * domain's `checkInstanceQuota`, with Nova's arithmetic and messages.
 * Two boots racing for the last slot may both pass this check; each carries the limits it passed under
 * in its BootRequested, and the scheduler rechecks them in `$all` order, as Nova's conductor does.
 */
import { Inject, Injectable } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import {
  type InstanceUsage,
  type QuotaLimits,
  decideSetQuota,
  effectiveLimits,
  quotaOverridesReducer,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import type { ApiConfig } from '../../config/api.config.js';
import { forbidden } from '../../common/http/api-error.js';
import { ReadModelHub } from '../../common/store/read-model-hub.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { ServerGroupDirectory } from '../server-groups/server-group-directory.js';
import { ServerProjection } from '../servers/projection/server-projection.js';
import { QuotaOverrides } from './quota-overrides.js';
import type { ProjectUsage } from './quotas.views.js';

@Injectable()
export class QuotasService {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly overrides: QuotaOverrides,
    private readonly servers: ServerProjection,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
    private readonly groups: ServerGroupDirectory,
  ) {}

  defaults(): QuotaLimits {
    const { config } = this;
    return {
      instances: config.quotaInstances,
      cores: config.quotaCores,
      ramMb: config.quotaRamMb,
      keyPairs: config.quotaKeyPairs,
      serverGroups: config.quotaServerGroups,
      serverGroupMembers: config.quotaServerGroupMembers,
      metadataItems: 128,
    };
  }

  limitsFor(projectId: string): QuotaLimits {
    return effectiveLimits(this.defaults(), this.overrides.of(projectId));
  }

  /** A server's metadata of `count` items must fit the project's metadata_items (Nova's 403 otherwise). */
  checkMetadataItems(projectId: string, count: number): void {
    const limit = this.limitsFor(projectId).metadataItems;
    if (limit >= 0 && count > limit)
      throw forbidden(
        `Quota exceeded for metadata_items: Requested ${count}, but already used 0 of ${limit} metadata_items`,
      );
  }

  instanceUsage(projectId: string): InstanceUsage {
    return this.servers.usage(projectId);
  }

  /** Instances, cores and RAM in use, and the project's server groups: what limits and quota details show. */
  projectUsage(projectId: string): ProjectUsage {
    const serverGroups = this.groups.all().filter((group) => group.projectId === projectId).length;
    return { ...this.instanceUsage(projectId), serverGroups };
  }

  async setLimits(
    projectId: string,
    changes: Partial<QuotaLimits>,
    context: EventContext,
  ): Promise<QuotaLimits> {
    const current = this.limitsFor(projectId);
    const { appended } = await this.store.execute(
      streamFor('quota', projectId),
      quotaOverridesReducer,
      () => decideSetQuota(current, projectId, changes),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return this.limitsFor(projectId);
  }
}
