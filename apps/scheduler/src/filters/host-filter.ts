/**
 * One scheduler filter: a yes/no question about one host for one request, as Nova's
 * BaseHostFilter.host_passes. Filters are pure and switched on by configuration.
 */
import type { HostCandidate } from '../candidate.js';
import type { RequestSpec } from '../request-spec.js';

export interface HostFilter {
  /** The class name Nova uses for the same filter, shown in scheduling traces and faults. */
  readonly name: string;
  passes(host: HostCandidate, spec: RequestSpec): boolean;
}
