/** RetryFilter: a rescheduled build does not go back to a host it already failed on. */
import type { HostFilter } from './host-filter.js';

export const retryFilter: HostFilter = {
  name: 'RetryFilter',
  passes: (host, spec) => !spec.excludedHosts.includes(host.name),
};
