/** RamFilter: free RAM, after reservations and the allocation ratio, holds the flavor's RAM. */
import { free } from '../candidate.js';
import type { HostFilter } from './host-filter.js';

export const ramFilter: HostFilter = {
  name: 'RamFilter',
  passes: (host, spec) => spec.resources.ramMb <= free(host).ramMb,
};
