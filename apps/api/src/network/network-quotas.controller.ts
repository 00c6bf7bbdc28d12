/**
 * Neutron's quotas: a project's limits (its own, or any for an admin), the defaults, the limits with
 * what is used (`/details`, which the dashboard's overview reads), and an admin's changes. Usage is
 * counted from what exists, so it cannot drift.
 */
import { Body, Controller, Get, Param, Put } from '@nestjs/common';

import {
  DEFAULT_NETWORK_QUOTAS,
  NEUTRON_QUOTA_NAMES,
  type NetworkQuotaLimits,
  type NetworkQuotaResource,
  NetworkError,
} from '#libs/domain';

import { Policy } from '../common/auth/auth.guard.js';
import { isAdmin } from '../common/auth/principal.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Schema } from '../common/validation/schema.js';
import { validateBody } from '../common/validation/validate.js';
import { NetworkService } from './network.service.js';

const RESOURCES = Object.keys(NEUTRON_QUOTA_NAMES) as NetworkQuotaResource[];
const LIMIT: Schema = {
  type: ['integer', 'string'],
  pattern: '^-?[0-9]+$',
  minimum: -1,
  maximum: 2_147_483_647,
};

const UPDATE: Schema = {
  type: 'object',
  properties: {
    quota: {
      type: 'object',
      properties: Object.fromEntries(RESOURCES.map((resource) => [NEUTRON_QUOTA_NAMES[resource], LIMIT])),
      additionalProperties: false,
    },
  },
  required: ['quota'],
  additionalProperties: false,
};

/** Neutron's quota document: its resource names, each with `per` (a limit, or limit and usage). */
function quotaView<T>(per: (resource: NetworkQuotaResource) => T): Record<string, T> {
  return Object.fromEntries(RESOURCES.map((resource) => [NEUTRON_QUOTA_NAMES[resource], per(resource)]));
}

@Controller('v2.0/quotas')
export class NetworkQuotasController {
  constructor(private readonly network: NetworkService) {}

  /** The project whose quota the caller may read: its own, or any for an admin. */
  private readable(context: CallContext, projectId: string): string {
    if (projectId !== context.principal.projectId && !isAdmin(context.principal)) {
      throw new NetworkError('Forbidden', 'PolicyNotAuthorized', '(rule:get_quota) is disallowed by policy');
    }
    return projectId;
  }

  @Get()
  @Policy('get_quota', 'admin')
  list(): Record<string, unknown> {
    return {
      quotas: this.network.projectsWithQuotas().map((projectId) => ({
        ...quotaView((resource) => this.network.limitsOf(projectId)[resource]),
        project_id: projectId,
        tenant_id: projectId,
      })),
    };
  }

  @Get(':project/default')
  @Policy('get_quota', 'reader')
  defaults(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    this.readable(context, project);
    return { quota: quotaView((resource) => DEFAULT_NETWORK_QUOTAS[resource]) };
  }

  @Get(':project/details')
  @Policy('get_quota', 'reader')
  details(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const projectId = this.readable(context, project);
    const limits = this.network.limitsOf(projectId);
    const used = this.network.usageOf(projectId);
    return {
      quota: quotaView((resource) => ({ limit: limits[resource], used: used[resource], reserved: 0 })),
    };
  }

  @Get(':project')
  @Policy('get_quota', 'reader')
  show(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const limits = this.network.limitsOf(this.readable(context, project));
    return { quota: quotaView((resource) => limits[resource]) };
  }

  @Put(':project')
  @Policy('update_quota', 'admin')
  async update(
    @Ctx() context: CallContext,
    @Param('project') project: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { quota } = validateBody<{ quota: Record<string, number | string> }>(UPDATE, raw);
    const changes: Partial<Record<NetworkQuotaResource, number>> = {};
    for (const resource of RESOURCES) {
      const value = quota[NEUTRON_QUOTA_NAMES[resource]];
      if (value !== undefined) changes[resource] = Number(value);
    }
    const limits: NetworkQuotaLimits = await this.network.setQuota(
      context.principal,
      project,
      changes,
      eventContextOf(context.principal, context.requestId),
    );
    return { quota: quotaView((resource) => limits[resource]) };
  }
}
