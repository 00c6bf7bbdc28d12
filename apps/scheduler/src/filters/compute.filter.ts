/** ComputeFilter: the host's compute service is enabled and its agent is alive (recent heartbeat). */
import type { HostFilter } from './host-filter.js';

export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  passes: (host) =>
    host.state.registered && host.state.enabled && host.alive && host.state.inventory !== null,
};
