/** ServerGroupAffinityFilter: members of an affinity group go where the others already are. */
import type { HostFilter } from './host-filter.js';

export const serverGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  passes: (host, spec) =>
    spec.serverGroup?.policy !== 'affinity' ||
    spec.groupHosts.length === 0 ||
    spec.groupHosts.includes(host.name),
};
