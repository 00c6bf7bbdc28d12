/**
 * How Nova shows limits and quota sets, with the fields each microversion has: network quotas dropped at
 * 2.36, image metadata at 2.39, personality quotas at 2.57. Pure renderings of limits and usage.
 */
import type { InstanceUsage, QuotaLimits } from '#libs/domain';

import type { Microversion } from '../../common/http/microversion.js';
import { IMAGE_META_LIMIT_REMOVED, PERSONALITY_REMOVED, PROXY_APIS_REMOVED } from '../microversions.js';
import { LEGACY_QUOTAS, QUOTA_NAMES } from './quotas.schemas.js';

/** What a project uses, as the views count it. */
export interface ProjectUsage extends InstanceUsage {
  readonly serverGroups: number;
}

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

export function quotaSetView(limits: QuotaLimits, version: Microversion): Record<string, number> {
  return {
    ...Object.fromEntries(Object.entries(QUOTA_NAMES).map(([name, key]) => [name, limits[key]])),
    ...legacyFor(version),
  };
}

export function quotaDetailView(
  projectId: string,
  limits: QuotaLimits,
  usage: ProjectUsage,
  version: Microversion,
): Record<string, unknown> {
  const inUse: Record<string, number> = {
    instances: usage.instances,
    cores: usage.cores,
    ram: usage.ramMb,
    server_groups: usage.serverGroups,
  };
  return {
    id: projectId,
    ...Object.fromEntries(
      Object.entries(quotaSetView(limits, version)).map(([name, limit]) => [
        name,
        { in_use: inUse[name] ?? 0, limit, reserved: 0 },
      ]),
    ),
  };
}

export function limitsView(
  limits: QuotaLimits,
  usage: ProjectUsage,
  version: Microversion,
): Record<string, unknown> {
  const absolute: Record<string, number> = {
    maxServerMeta: limits.metadataItems,
    ...(version.atLeast(PERSONALITY_REMOVED) ? {} : { maxPersonality: 5, maxPersonalitySize: 10_240 }),
    totalServerGroupsUsed: usage.serverGroups,
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
  return { rate: [], absolute };
}
