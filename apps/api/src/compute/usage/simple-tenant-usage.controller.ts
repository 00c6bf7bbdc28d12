/**
 * `/v2.1/os-simple-tenant-usage`: a project's usage over a period (`start`, `end`), and every project's
 * for admins (`detailed=1` adds the servers' lines). From 2.40 both are paged by server with `limit` and
 * `marker`, oldest server first, with a next link on a full page; past the last server a project's
 * report is `{}`, which is how Horizon's paging loop ends. The servers come from the server read model
 * (deleted ones included); tenant-usage.ts does the arithmetic.
 */
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';

import type { ApiConfig } from '../../config/api.config.js';
import { Policy } from '../../common/auth/auth.guard.js';
import { projectUnderPolicy } from '../../common/auth/owner.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import type { Microversion } from '../../common/http/microversion.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { queryText } from '../../common/validation/query.js';
import { pageLinks } from '../links.js';
import { USAGE_PAGING } from '../microversions.js';
import { type Page, pageAfter, pageOf } from '../paging.js';
import { ServerProjection } from '../servers/projection/server-projection.js';
import {
  type ServerUsage,
  type UsagePeriod,
  activeIn,
  serverUsage,
  tenantUsages,
  usagePeriod,
} from './tenant-usage.js';

const COLLECTION = 'os-simple-tenant-usage';

@Controller(`v2.1/${COLLECTION}`)
export class SimpleTenantUsageController {
  constructor(
    private readonly servers: ServerProjection,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get()
  @Policy('os_compute_api:os-simple-tenant-usage:list', 'admin')
  list(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const now = Date.now();
    const period = usagePeriod(queryText(query, 'start'), queryText(query, 'end'), now);
    const page = this.pageOf(query, context.microversion);
    const lines = this.linesOf(null, period, page, now);
    return {
      tenant_usages: tenantUsages(lines, period, queryText(query, 'detailed') === '1'),
      ...this.links('tenant_usages_links', COLLECTION, query, lines, page, context.microversion),
    };
  }

  @Get(':project')
  @Policy('os_compute_api:os-simple-tenant-usage:show', 'reader')
  show(
    @Ctx() context: CallContext,
    @Param('project') project: string,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    const projectId = projectUnderPolicy(
      context.principal,
      project,
      'os_compute_api:os-simple-tenant-usage:show',
    );
    const now = Date.now();
    const period = usagePeriod(queryText(query, 'start'), queryText(query, 'end'), now);
    const page = this.pageOf(query, context.microversion);
    const lines = this.linesOf(projectId, period, page, now);
    const [usage] = tenantUsages(lines, period, true);
    return {
      tenant_usage: usage ?? {},
      ...this.links(
        'tenant_usage_links',
        `${COLLECTION}/${projectId}`,
        query,
        lines,
        page,
        context.microversion,
      ),
    };
  }

  /** Before 2.40 a report holds every server; from 2.40 a page of them. */
  private pageOf(query: Record<string, unknown>, version: Microversion): Page {
    return version.atLeast(USAGE_PAGING)
      ? pageOf(query, this.config.maxLimit)
      : { limit: Number.MAX_SAFE_INTEGER, marker: null };
  }

  private linesOf(projectId: string | null, period: UsagePeriod, page: Page, now: number): ServerUsage[] {
    const active = this.servers
      .createdBefore(projectId, new Date(period.start).toISOString(), new Date(period.stop).toISOString())
      .map((record) => record.instance)
      .filter((instance) => activeIn(instance, period));
    return pageAfter(
      active,
      page,
      (instance) => instance.id,
      (marker) => `Marker ${marker} could not be found.`,
    ).map((instance) => serverUsage(instance, period, now));
  }

  private links(
    key: string,
    collection: string,
    query: Record<string, unknown>,
    lines: readonly ServerUsage[],
    page: Page,
    version: Microversion,
  ): Record<string, unknown> {
    if (!version.atLeast(USAGE_PAGING)) return {};
    return pageLinks(
      key,
      { base: this.publicUrl.get(), collection, query },
      lines,
      page.limit,
      (line) => line.instance_id,
    );
  }
}
