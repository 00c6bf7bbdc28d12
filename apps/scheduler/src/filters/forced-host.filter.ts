/**
 * ForcedHostFilter: an admin's `availability_zone=zone:host` pins the build to that host. Nova skips
 * the other filters for a forced host; here they still run, so a forced build can never overcommit.
 */
import type { HostFilter } from './host-filter.js';

export const forcedHostFilter: HostFilter = {
  name: 'ForcedHostFilter',
  passes: (host, spec) => spec.forcedHost === null || host.name === spec.forcedHost,
};
