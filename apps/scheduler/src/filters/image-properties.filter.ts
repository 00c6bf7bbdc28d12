/**
 * ImagePropertiesFilter: an image that names an architecture or hypervisor type only runs on hosts
 * that report the same. An image that names neither runs anywhere.
 */
import type { HostFilter } from './host-filter.js';

export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  passes: (host, spec) =>
    (spec.image.architecture === null || spec.image.architecture === host.state.cpuArch) &&
    (spec.image.hypervisorType === null || spec.image.hypervisorType === host.state.hypervisorType),
};
