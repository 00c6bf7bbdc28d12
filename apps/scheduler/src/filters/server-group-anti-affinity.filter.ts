/** ServerGroupAntiAffinityFilter: members of an anti-affinity group never share a host. */
import type { HostFilter } from './host-filter.js';

export const serverGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  passes: (host, spec) =>
    spec.serverGroup?.policy !== 'anti-affinity' || !spec.groupHosts.includes(host.name),
};
