/**
 * The network API's quotas: a project's limits on networks, subnets, ports, security groups and rules,
 * routers and floating IPs (Neutron's defaults, overridden by NetworkQuotaLimitsSet on
 * `quota-<project id>`), and the check a create must pass, with Neutron's 409 OverQuota. -1 is unlimited.
 * Pure: usage is counted by the caller from what exists and passed in.
 */
import { type DecodedEvent, NetworkQuotaLimitsSet, build } from '#libs/contracts';

import { NetworkError } from './network.js';

export interface NetworkQuotaLimits {
  readonly networks: number;
  readonly subnets: number;
  readonly ports: number;
  readonly securityGroups: number;
  readonly securityGroupRules: number;
  readonly routers: number;
  readonly floatingIps: number;
}

export type NetworkQuotaResource = keyof NetworkQuotaLimits;

/** Neutron's names for the resources, as its quota documents and messages spell them. */
export const NEUTRON_QUOTA_NAMES: Readonly<Record<NetworkQuotaResource, string>> = {
  networks: 'network',
  subnets: 'subnet',
  ports: 'port',
  securityGroups: 'security_group',
  securityGroupRules: 'security_group_rule',
  routers: 'router',
  floatingIps: 'floatingip',
};

/** Neutron's default quotas. */
export const DEFAULT_NETWORK_QUOTAS: NetworkQuotaLimits = {
  networks: 100,
  subnets: 100,
  ports: 500,
  securityGroups: 10,
  securityGroupRules: 100,
  routers: 10,
  floatingIps: 50,
};

const RESOURCES = Object.keys(DEFAULT_NETWORK_QUOTAS) as NetworkQuotaResource[];

/** A project's overrides as the fold of its quota stream (compute limits are another fold's). */
export function evolveNetworkQuotas(
  state: Partial<NetworkQuotaLimits>,
  event: DecodedEvent,
): Partial<NetworkQuotaLimits> {
  if (!(event.data instanceof NetworkQuotaLimitsSet)) return state;
  const changed = Object.fromEntries(
    RESOURCES.flatMap((resource) => {
      const value = (event.data as NetworkQuotaLimitsSet)[resource];
      return value === undefined ? [] : [[resource, value]];
    }),
  );
  return { ...state, ...changed };
}

export const networkQuotaReducer = {
  initial: (): Partial<NetworkQuotaLimits> => ({}),
  evolve: evolveNetworkQuotas,
};

export const effectiveNetworkLimits = (overrides: Partial<NetworkQuotaLimits>): NetworkQuotaLimits => ({
  ...DEFAULT_NETWORK_QUOTAS,
  ...overrides,
});

/** Records only the limits that change; setting what is already in force appends nothing. */
export function decideSetNetworkQuota(
  overrides: Partial<NetworkQuotaLimits>,
  projectId: string,
  changes: Partial<NetworkQuotaLimits>,
): NetworkQuotaLimitsSet[] {
  const current = effectiveNetworkLimits(overrides);
  const changed = Object.fromEntries(
    RESOURCES.flatMap((resource) => {
      const value = changes[resource];
      return value === undefined || value === current[resource] ? [] : [[resource, value]];
    }),
  );
  if (Object.keys(changed).length === 0) return [];
  return [build(NetworkQuotaLimitsSet, { projectId, ...changed })];
}

/** Neutron's OverQuota when `adding` more would pass the limit. */
export function checkNetworkQuota(
  limits: NetworkQuotaLimits,
  resource: NetworkQuotaResource,
  used: number,
  adding = 1,
): void {
  const limit = limits[resource];
  if (limit >= 0 && used + adding > limit) {
    throw new NetworkError(
      'Conflict',
      'OverQuota',
      `Quota exceeded for resources: ['${NEUTRON_QUOTA_NAMES[resource]}'].`,
    );
  }
}
