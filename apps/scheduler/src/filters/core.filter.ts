/** CoreFilter: free vCPUs, after reservations and the allocation ratio, hold the flavor's vCPUs. */
import { free } from '../candidate.js';
import type { HostFilter } from './host-filter.js';

export const coreFilter: HostFilter = {
  name: 'CoreFilter',
  passes: (host, spec) => spec.resources.vcpus <= free(host).vcpus,
};
