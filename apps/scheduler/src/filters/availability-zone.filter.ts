/** AvailabilityZoneFilter: a request for a zone only goes to hosts in that zone. */
import type { HostFilter } from './host-filter.js';

export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  passes: (host, spec) =>
    spec.availabilityZone === null || host.state.availabilityZone === spec.availabilityZone,
};
