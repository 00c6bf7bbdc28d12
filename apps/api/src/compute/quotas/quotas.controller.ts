/**
 * `/v2.1/limits` (the caller's project, or `tenant_id` for admins) and `/v2.1/os-quota-sets` (show,
 * defaults, detail; update for admins). Thin: the project is resolved under policy, QuotasService reads
 * and writes, quotas.views renders per microversion.
 */
import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';

import { Policy } from '../../common/auth/auth.guard.js';
import { projectUnderPolicy } from '../../common/auth/owner.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { queryText } from '../../common/validation/query.js';
import { validateBody } from '../../common/validation/validate.js';
import { UPDATE_QUOTAS, type UpdateQuotasBody, quotaChangesOf } from './quotas.schemas.js';
import { QuotasService } from './quotas.service.js';
import { limitsView, quotaDetailView, quotaSetView } from './quotas.views.js';

@Controller('v2.1')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get('limits')
  @Policy('os_compute_api:limits', 'reader')
  limits(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const projectId = projectUnderPolicy(
      context.principal,
      queryText(query, 'tenant_id'),
      'os_compute_api:limits:other_project',
    );
    return {
      limits: limitsView(
        this.quotas.limitsFor(projectId),
        this.quotas.projectUsage(projectId),
        context.microversion,
      ),
    };
  }

  @Get('os-quota-sets/:project/defaults')
  @Policy('os_compute_api:os-quota-sets:defaults', 'reader')
  defaults(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    return { quota_set: { id: project, ...quotaSetView(this.quotas.defaults(), context.microversion) } };
  }

  @Get('os-quota-sets/:project/detail')
  @Policy('os_compute_api:os-quota-sets:detail', 'reader')
  detail(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const projectId = projectUnderPolicy(context.principal, project, 'os_compute_api:os-quota-sets:detail');
    return {
      quota_set: quotaDetailView(
        projectId,
        this.quotas.limitsFor(projectId),
        this.quotas.projectUsage(projectId),
        context.microversion,
      ),
    };
  }

  @Get('os-quota-sets/:project')
  @Policy('os_compute_api:os-quota-sets:show', 'reader')
  show(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const projectId = projectUnderPolicy(context.principal, project, 'os_compute_api:os-quota-sets:show');
    return {
      quota_set: { id: projectId, ...quotaSetView(this.quotas.limitsFor(projectId), context.microversion) },
    };
  }

  @Put('os-quota-sets/:project')
  @Policy('os_compute_api:os-quota-sets:update', 'admin')
  async update(
    @Ctx() context: CallContext,
    @Param('project') project: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { quota_set: request } = validateBody<UpdateQuotasBody>(UPDATE_QUOTAS, body);
    const limits = await this.quotas.setLimits(
      project,
      quotaChangesOf(request),
      eventContextOf(context.principal, context.requestId),
    );
    return { quota_set: quotaSetView(limits, context.microversion) };
  }
}
