/**
 * Quotas: a project's limits (the configured defaults, overridden by `quota-<project id>`) and the check a
 * boot must pass, with Nova's arithmetic and messages: cores and RAM count `max_count` servers, a request
 * that fits only partly is granted as many servers as fit (at least `min_count`), -1 is unlimited.
 * Pure: usage is counted by the caller from what exists and passed in.
 */
import { type DecodedEvent, QuotaLimitsSet, build } from '#libs/contracts';

import { DomainError } from './errors.js';

export interface QuotaLimits {
  readonly instances: number;
  readonly cores: number;
  readonly ramMb: number;
  readonly keyPairs: number;
  readonly serverGroups: number;
  readonly serverGroupMembers: number;
  readonly metadataItems: number;
}

export type QuotaResource = keyof QuotaLimits;

export const QUOTA_RESOURCES: readonly QuotaResource[] = [
  'instances',
  'cores',
  'ramMb',
  'keyPairs',
  'serverGroups',
  'serverGroupMembers',
  'metadataItems',
];

/** Nova's OverQuota family: the API answers 403 with the message, as Nova does. */
export class QuotaExceeded extends DomainError {
  override readonly name = 'QuotaExceeded';
  readonly code = 'OverLimit' as const;
}

export interface QuotaOverridesState {
  readonly overrides: Partial<QuotaLimits>;
}

export const initialQuotaOverrides = (): QuotaOverridesState => ({ overrides: {} });

export function evolveQuotaOverrides(state: QuotaOverridesState, event: DecodedEvent): QuotaOverridesState {
  if (!(event.data instanceof QuotaLimitsSet)) return state;
  const overrides: Partial<Record<QuotaResource, number>> = { ...state.overrides };
  for (const resource of QUOTA_RESOURCES) {
    const value = event.data[resource];
    if (value !== undefined) overrides[resource] = value;
  }
  return { overrides };
}

export const quotaOverridesReducer = { initial: initialQuotaOverrides, evolve: evolveQuotaOverrides };

export function effectiveLimits(defaults: QuotaLimits, state: QuotaOverridesState): QuotaLimits {
  return { ...defaults, ...state.overrides };
}

/** Records only the limits that change; setting what is already in force appends nothing. */
export function decideSetQuota(
  current: QuotaLimits,
  projectId: string,
  changes: Partial<QuotaLimits>,
): QuotaLimitsSet[] {
  const changed: Partial<Record<QuotaResource, number>> = {};
  for (const resource of QUOTA_RESOURCES) {
    const value = changes[resource];
    if (value !== undefined && value !== current[resource]) changed[resource] = value;
  }
  if (Object.keys(changed).length === 0) return [];
  return [build(QuotaLimitsSet, { projectId, ...changed })];
}

/** The limits a boot is checked against. */
export type InstanceLimits = Pick<QuotaLimits, 'instances' | 'cores' | 'ramMb'>;

export interface InstanceUsage {
  readonly instances: number;
  readonly cores: number;
  readonly ramMb: number;
}

export interface BootRequest {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly minCount: number;
  readonly maxCount: number;
}

const unlimited = (limit: number): boolean => limit < 0;

/**
 * How many servers of the request may be created: `maxCount` when all fit, fewer (never below `minCount`)
 * when only some do; otherwise QuotaExceeded with Nova's message
 * ("Quota exceeded for cores, instances: Requested 2, 2, but already used 19, 10 of 20, 10 cores, instances").
 */
/**
 * Nova's check when a resize grows a server: the growth in cores and RAM must fit what the project
 * has left (a shrink always fits). Over: QuotaExceeded with Nova's message for the resources over.
 */
export function checkResizeQuota(
  limits: InstanceLimits,
  usage: InstanceUsage,
  growth: { readonly cores: number; readonly ramMb: number },
): void {
  const resources = (['cores', 'ramMb'] as const).filter(
    (resource) =>
      growth[resource] > 0 &&
      !unlimited(limits[resource]) &&
      usage[resource] + growth[resource] > limits[resource],
  );
  if (resources.length === 0) return;
  const label = (resource: (typeof resources)[number]): string => (resource === 'ramMb' ? 'ram' : resource);
  const list = (pick: (resource: (typeof resources)[number]) => number): string =>
    resources.map((resource) => String(pick(resource))).join(', ');
  const names = resources.map(label).join(', ');
  throw new QuotaExceeded(
    `Quota exceeded for ${names}: Requested ${list((r) => growth[r])}, but already used ` +
      `${list((r) => usage[r])} of ${list((r) => limits[r])} ${names}`,
  );
}

export function checkInstanceQuota(
  limits: InstanceLimits,
  usage: InstanceUsage,
  request: BootRequest,
): number {
  const { vcpus, ramMb, minCount, maxCount } = request;
  const wanted = { instances: maxCount, cores: maxCount * vcpus, ramMb: maxCount * ramMb };
  const resources = ['cores', 'instances', 'ramMb'] as const;
  const over = resources.filter(
    (resource) => !unlimited(limits[resource]) && usage[resource] + wanted[resource] > limits[resource],
  );
  if (over.length === 0) return maxCount;

  const headroom = (resource: (typeof resources)[number]): number =>
    unlimited(limits[resource]) ? Number.MAX_SAFE_INTEGER : limits[resource] - usage[resource];
  let allowed = headroom('instances');
  if (vcpus > 0) allowed = Math.min(allowed, Math.floor(headroom('cores') / vcpus));
  if (ramMb > 0) allowed = Math.min(allowed, Math.floor(headroom('ramMb') / ramMb));
  if (allowed >= minCount && allowed > 0) return Math.min(allowed, maxCount);

  const label = (resource: (typeof resources)[number]): string => (resource === 'ramMb' ? 'ram' : resource);
  const requested = {
    instances: minCount === maxCount ? String(minCount) : `${minCount}-${maxCount}`,
    cores: String(wanted.cores),
    ramMb: String(wanted.ramMb),
  };
  const overs = over.map(label).join(', ');
  const list = (pick: (resource: (typeof resources)[number]) => string): string => over.map(pick).join(', ');
  throw new QuotaExceeded(
    `Quota exceeded for ${overs}: Requested ${list((r) => requested[r])}, but already used ` +
      `${list((r) => String(usage[r]))} of ${list((r) => String(limits[r]))} ${overs}`,
  );
}
