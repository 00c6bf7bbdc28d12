/**
 * The scheduling decision, pure: run the enabled filters in order over the candidate hosts, weigh
 * the survivors, and return the best host with alternates for a reschedule, together with a trace
 * of every step. Nova keeps this in its logs; here it travels in HostSelected and InstanceFailed,
 * so "why did my server land there" and "why no valid host" are answered from the store.
 */
import { MAX_TRACE_REJECTED, type SchedulingTrace } from '#libs/contracts';

import type { HostCandidate } from './candidate.js';
import type { HostFilter } from './filters/index.js';
import type { RequestSpec } from './request-spec.js';
import type { HostWeigher } from './weighers/index.js';

export interface WeigherSetting {
  readonly weigher: HostWeigher;
  readonly multiplier: number;
}

export interface SchedulingPolicy {
  readonly filters: readonly HostFilter[];
  readonly weighers: readonly WeigherSetting[];
  /** Alternates to keep for a reschedule (Nova's max_attempts - 1). */
  readonly alternates: number;
}

export type Selection =
  | { readonly kind: 'selected'; readonly ranked: readonly string[]; readonly trace: SchedulingTrace }
  | { readonly kind: 'no-valid-host'; readonly reason: string; readonly trace: SchedulingTrace };

/** How many weighed hosts a trace keeps: the winner, its alternates and a few runners-up. */
const TRACE_WEIGHED = 10;

/** Nova's normalisation: each weigher's raw values mapped onto 0..1 across the candidates. */
function normalise(values: readonly number[]): number[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((value) => (max === min ? 0 : (value - min) / (max - min)));
}

export function selectHosts(
  candidates: readonly HostCandidate[],
  spec: RequestSpec,
  policy: SchedulingPolicy,
): Selection {
  let remaining = [...candidates];
  const steps: SchedulingTrace['filters'][number][] = [];
  let emptiedBy: string | null = null;
  for (const filter of policy.filters) {
    const kept: HostCandidate[] = [];
    const rejected: string[] = [];
    for (const host of remaining) {
      if (filter.passes(host, spec)) kept.push(host);
      else rejected.push(host.name);
    }
    steps.push({
      filter: filter.name,
      remaining: kept.length,
      rejectedCount: rejected.length,
      rejected: rejected.slice(0, MAX_TRACE_REJECTED),
    });
    remaining = kept;
    if (remaining.length === 0) {
      emptiedBy = filter.name;
      break;
    }
  }

  const scores = remaining.map(() => 0);
  for (const { weigher, multiplier } of policy.weighers) {
    if (multiplier === 0 || remaining.length === 0) continue;
    normalise(remaining.map((host) => weigher.raw(host, spec))).forEach((value, index) => {
      scores[index] = (scores[index] ?? 0) + value * multiplier;
    });
  }
  const weighed = remaining
    .map((host, index) => ({ host: host.name, weight: Number((scores[index] ?? 0).toFixed(6)) }))
    // Ties go to the name (by code point: a locale's collation costs more and adds nothing here), so
    // the same inputs always give the same choice.
    .sort((a, b) => b.weight - a.weight || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));

  const trace = { hostsIn: candidates.length, filters: steps, weighed: weighed.slice(0, TRACE_WEIGHED) };
  if (emptiedBy !== null || weighed.length === 0) {
    const filter = emptiedBy ?? 'no filter';
    const reason =
      candidates.length === 0
        ? 'There are no compute hosts.'
        : `Filter ${filter} returned 0 hosts${emptiedBy ? ` (${steps.map((step) => `${step.filter}: ${step.remaining}`).join(', ')})` : ''}.`;
    return { kind: 'no-valid-host', reason, trace };
  }
  return {
    kind: 'selected',
    ranked: weighed.slice(0, policy.alternates + 1).map((entry) => entry.host),
    trace,
  };
}
