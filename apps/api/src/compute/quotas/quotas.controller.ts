/**
 * `/v2.1/limits` (the caller's project, or `tenant_id` for admins) and `/v2.1/os-quota-sets` (show,
 * defaults, detail; update for admins), with the fields each microversion has: network quotas dropped at
 * 2.36, personality quotas at 2.57, as in Nova.
 */
import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';

import type { QuotaLimits } from '#libs/domain';

import { Policy } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { policyForbids } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import type { Microversion } from '../../common/http/microversion.js';
import { eventContextOf } from '../../common/http/request-state.js';
import type { Schema } from '../../common/validation/schema.js';
import { validateBody } from '../../common/validation/validate.js';
import { queryText } from '../paging.js';
import { ServerGroupDirectory } from '../server-groups/server-groups.service.js';
import { QuotasService } from './quotas.service.js';
import { IMAGE_META_LIMIT_REMOVED, PERSONALITY_REMOVED, PROXY_APIS_REMOVED } from '../microversions.js';

/** Nova's quota names and the limits Nimbus keeps for them. */
const QUOTA_NAMES: Readonly<Record<string, keyof QuotaLimits>> = {
  instances: 'instances',
  cores: 'cores',
  ram: 'ramMb',
  key_pairs: 'keyPairs',
  server_groups: 'serverGroups',
  server_group_members: 'serverGroupMembers',
  metadata_items: 'metadataItems',
};

/** Quotas Nova still lists but Nimbus does not enforce, at Nova's defaults. */
const LEGACY_QUOTAS = {
  fixed_ips: -1,
  floating_ips: 10,
  security_group_rules: 20,
  security_groups: 10,
  injected_file_content_bytes: 10_240,
  injected_file_path_bytes: 255,
  injected_files: 5,
} as const;

function legacyFor(version: Microversion): Record<string, number> {
  const legacy: Record<string, number> = {};
  if (!version.atLeast(PROXY_APIS_REMOVED)) {
    legacy['fixed_ips'] = LEGACY_QUOTAS.fixed_ips;
    legacy['floating_ips'] = LEGACY_QUOTAS.floating_ips;
    legacy['security_group_rules'] = LEGACY_QUOTAS.security_group_rules;
    legacy['security_groups'] = LEGACY_QUOTAS.security_groups;
  }
  if (!version.atLeast(PERSONALITY_REMOVED)) {
    legacy['injected_file_content_bytes'] = LEGACY_QUOTAS.injected_file_content_bytes;
    legacy['injected_file_path_bytes'] = LEGACY_QUOTAS.injected_file_path_bytes;
    legacy['injected_files'] = LEGACY_QUOTAS.injected_files;
  }
  return legacy;
}

const UPDATE_QUOTAS: Schema = {
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

@Controller('v2.1')
export class QuotasController {
  constructor(
    private readonly quotas: QuotasService,
    private readonly groups: ServerGroupDirectory,
  ) {}

  private projectFor(context: CallContext, requested: string | undefined, rule: string): string {
    if (requested === undefined || requested === context.principal.projectId)
      return context.principal.projectId;
    if (!isAdmin(context.principal)) throw policyForbids(rule);
    return requested;
  }

  @Get('limits')
  @Policy('os_compute_api:limits', 'reader')
  limits(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const projectId = this.projectFor(
      context,
      queryText(query, 'tenant_id'),
      'os_compute_api:limits:other_project',
    );
    const limits = this.quotas.limitsFor(projectId);
    const usage = this.quotas.instanceUsage(projectId);
    const version = context.microversion;
    const groupsUsed = this.groups.all().filter((group) => group.projectId === projectId).length;
    const absolute: Record<string, number> = {
      maxServerMeta: limits.metadataItems,
      ...(version.atLeast(PERSONALITY_REMOVED) ? {} : { maxPersonality: 5, maxPersonalitySize: 10_240 }),
      totalServerGroupsUsed: groupsUsed,
      ...(version.atLeast(IMAGE_META_LIMIT_REMOVED) ? {} : { maxImageMeta: limits.metadataItems }),
      maxTotalKeypairs: limits.keyPairs,
      ...(version.atLeast(PROXY_APIS_REMOVED)
        ? {}
        : {
            maxSecurityGroupRules: 20,
            maxSecurityGroups: 10,
            totalFloatingIpsUsed: 0,
            maxTotalFloatingIps: 10,
            totalSecurityGroupsUsed: 0,
          }),
      maxServerGroups: limits.serverGroups,
      totalCoresUsed: usage.cores,
      totalRAMUsed: usage.ramMb,
      totalInstancesUsed: usage.instances,
      maxTotalCores: limits.cores,
      maxServerGroupMembers: limits.serverGroupMembers,
      maxTotalInstances: limits.instances,
      maxTotalRAMSize: limits.ramMb,
    };
    return { limits: { rate: [], absolute } };
  }

  private quotaSet(limits: QuotaLimits, version: Microversion): Record<string, number> {
    return {
      ...Object.fromEntries(Object.entries(QUOTA_NAMES).map(([name, key]) => [name, limits[key]])),
      ...legacyFor(version),
    };
  }

  @Get('os-quota-sets/:project/defaults')
  @Policy('os_compute_api:os-quota-sets:defaults', 'reader')
  defaults(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    return { quota_set: { id: project, ...this.quotaSet(this.quotas.defaults(), context.microversion) } };
  }

  @Get('os-quota-sets/:project/detail')
  @Policy('os_compute_api:os-quota-sets:detail', 'reader')
  detail(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const projectId = this.projectFor(context, project, 'os_compute_api:os-quota-sets:detail');
    const limits = this.quotaSet(this.quotas.limitsFor(projectId), context.microversion);
    const usage = this.quotas.instanceUsage(projectId);
    const inUse: Record<string, number> = {
      instances: usage.instances,
      cores: usage.cores,
      ram: usage.ramMb,
      server_groups: this.groups.all().filter((group) => group.projectId === projectId).length,
    };
    return {
      quota_set: {
        id: projectId,
        ...Object.fromEntries(
          Object.entries(limits).map(([name, limit]) => [
            name,
            { in_use: inUse[name] ?? 0, limit, reserved: 0 },
          ]),
        ),
      },
    };
  }

  @Get('os-quota-sets/:project')
  @Policy('os_compute_api:os-quota-sets:show', 'reader')
  show(@Ctx() context: CallContext, @Param('project') project: string): Record<string, unknown> {
    const projectId = this.projectFor(context, project, 'os_compute_api:os-quota-sets:show');
    return {
      quota_set: { id: projectId, ...this.quotaSet(this.quotas.limitsFor(projectId), context.microversion) },
    };
  }

  @Put('os-quota-sets/:project')
  @Policy('os_compute_api:os-quota-sets:update', 'admin')
  async update(
    @Ctx() context: CallContext,
    @Param('project') project: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { quota_set: request } = validateBody<{ quota_set: Record<string, number | string | boolean> }>(
      UPDATE_QUOTAS,
      body,
    );
    const changes: Partial<Record<keyof QuotaLimits, number>> = {};
    for (const [name, key] of Object.entries(QUOTA_NAMES)) {
      const value = request[name];
      if (value !== undefined) changes[key] = Number(value);
    }
    const limits = await this.quotas.setLimits(
      project,
      changes,
      eventContextOf(context.principal, context.requestId),
    );
    return { quota_set: this.quotaSet(limits, context.microversion) };
  }
}
