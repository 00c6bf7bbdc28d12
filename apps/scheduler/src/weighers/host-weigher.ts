/**
 * One scheduler weigher: a raw number per host, normalised to 0..1 across the candidates and
 * multiplied by its configured multiplier, as Nova's weighers are. A positive multiplier spreads
 * (prefers more of the resource free), a negative one stacks.
 */
import type { HostCandidate } from '../candidate.js';
import type { RequestSpec } from '../request-spec.js';

export interface HostWeigher {
  readonly name: string;
  raw(host: HostCandidate, spec: RequestSpec): number;
}
