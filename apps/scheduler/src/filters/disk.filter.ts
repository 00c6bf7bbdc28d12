/** DiskFilter: free disk, after reservations and the allocation ratio, holds the flavor's root disk. */
import { free } from '../candidate.js';
import type { HostFilter } from './host-filter.js';

export const diskFilter: HostFilter = {
  name: 'DiskFilter',
  passes: (host, spec) => spec.resources.diskGb <= free(host).diskGb,
};
