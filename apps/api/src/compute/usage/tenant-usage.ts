/**
 * Nova's simple tenant usage, computed from what the events recorded: a server is billed from the
 * moment it was launched (DomainStarted of its first build) to the moment it was terminated (its
 * delete), clipped to the period asked for. Because both instants are facts in the server's stream,
 * the hours are exact, not sampled. Pure: the caller passes the records and the clock.
 * Must never bill a server that was never launched, nor any time outside the period.
 */
import type { InstanceState } from '#libs/domain';

import { badRequest } from '../../common/http/api-error.js';

/** The period of a report, in ms since the epoch, `start < stop`. */
export interface UsagePeriod {
  readonly start: number;
  readonly stop: number;
}

/** One server's line of a report, in Nova's field names. */
export interface ServerUsage {
  readonly instance_id: string;
  readonly name: string;
  readonly tenant_id: string;
  readonly flavor: string;
  readonly vcpus: number;
  readonly memory_mb: number;
  readonly local_gb: number;
  readonly hours: number;
  readonly started_at: string;
  readonly ended_at: string | null;
  /** The server's vm_state, or `terminated` once it was deleted. */
  readonly state: string;
  /** Whole seconds from launch to termination, or to now while it lives. */
  readonly uptime: number;
}

/** A project's report: totals over the period, and its servers' lines when detailed. */
export interface TenantUsage {
  readonly tenant_id: string;
  readonly start: string;
  readonly stop: string;
  readonly total_hours: number;
  readonly total_vcpus_usage: number;
  readonly total_memory_mb_usage: number;
  readonly total_local_gb_usage: number;
  readonly server_usages?: ServerUsage[];
}

const HOUR_MS = 3_600_000;

/** The three layouts Nova reads: `2024-05-01T00:00:00`, with `.ffffff`, or with a space and `.ffffff`. */
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?| (\d{2}):(\d{2}):(\d{2})\.(\d{1,6}))$/;

/** A query's `start` or `end`, read as UTC: absent means now; anything Nova cannot read is its 400. */
export function parseUsageTime(text: string | undefined, now: number): number {
  if (text === undefined || text === '') return now;
  const match = DATETIME.exec(text);
  if (match) {
    // Either layout fills one of the two time groups: 4-7 after a T, 8-11 after a space.
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((group) =>
      Number(group <= 3 ? match[group] : (match[group] ?? match[group + 4])),
    ) as [number, number, number, number, number, number];
    const fraction = match[7] ?? match[11] ?? '0';
    const ms = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(Number(`0.${fraction}`) * 1000);
    const back = new Date(ms);
    // Date.UTC rolls 31 February over into March; Nova's strptime refuses it.
    if (back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 60) return ms;
  }
  throw badRequest('Invalid datetime string: Datetime is in invalid format');
}

/** The report's period: both ends parsed, `start` before `end`, and an end in the future cut to now. */
export function usagePeriod(start: string | undefined, end: string | undefined, now: number): UsagePeriod {
  const from = parseUsageTime(start, now);
  const to = parseUsageTime(end, now);
  if (!(from < to)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  return { start: from, stop: Math.min(to, now) };
}

/** Whether a server counts in a period: launched before it ends, not terminated before it starts. */
export function activeIn(instance: InstanceState, period: UsagePeriod): boolean {
  if (instance.launchedAt === null) return false;
  if (Date.parse(instance.launchedAt) >= period.stop) return false;
  return instance.terminatedAt === null || Date.parse(instance.terminatedAt) > period.start;
}

/** One server's usage over the period; the caller has checked `activeIn`. */
export function serverUsage(instance: InstanceState, period: UsagePeriod, now: number): ServerUsage {
  const launched = Date.parse(instance.launchedAt ?? '');
  const terminated = instance.terminatedAt === null ? null : Date.parse(instance.terminatedAt);
  const billedFrom = Math.max(launched, period.start);
  const billedTo = terminated === null ? period.stop : Math.min(terminated, period.stop);
  const flavor = instance.flavor;
  return {
    instance_id: instance.id,
    name: instance.name,
    tenant_id: instance.boot?.projectId ?? '',
    flavor: flavor?.name ?? '',
    vcpus: flavor?.vcpus ?? 0,
    memory_mb: flavor?.ramMb ?? 0,
    local_gb: flavor?.diskGb ?? 0,
    hours: Math.max(0, billedTo - billedFrom) / HOUR_MS,
    started_at: novaTime(launched),
    ended_at: terminated === null ? null : novaTime(terminated),
    state: terminated === null ? instance.vmState : 'terminated',
    uptime: Math.floor(((terminated ?? now) - launched) / 1000),
  };
}

/**
 * Groups server lines by project, in the order their first server came, with Nova's totals; the
 * lines themselves only when `detailed`.
 */
export function tenantUsages(
  lines: readonly ServerUsage[],
  period: UsagePeriod,
  detailed: boolean,
): TenantUsage[] {
  const byProject = new Map<string, ServerUsage[]>();
  for (const line of lines) {
    const group = byProject.get(line.tenant_id) ?? [];
    group.push(line);
    byProject.set(line.tenant_id, group);
  }
  return [...byProject].map(([tenantId, group]) => {
    const sum = (of: (line: ServerUsage) => number): number =>
      group.reduce((total, line) => total + of(line), 0);
    return {
      tenant_id: tenantId,
      start: novaTime(period.start),
      stop: novaTime(period.stop),
      total_hours: sum((line) => line.hours),
      total_vcpus_usage: sum((line) => line.vcpus * line.hours),
      total_memory_mb_usage: sum((line) => line.memory_mb * line.hours),
      total_local_gb_usage: sum((line) => line.local_gb * line.hours),
      ...(detailed ? { server_usages: group } : {}),
    };
  });
}

/** Nova's rendering of a time: UTC without a zone, always with microseconds (novaclient parses `%f`). */
export function novaTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000`;
}
