import { availabilityZoneFilter } from './availability-zone.filter.js';
import { computeFilter } from './compute.filter.js';
import { coreFilter } from './core.filter.js';
import { diskFilter } from './disk.filter.js';
import { forcedHostFilter } from './forced-host.filter.js';
import type { HostFilter } from './host-filter.js';
import { imagePropertiesFilter } from './image-properties.filter.js';
import { ramFilter } from './ram.filter.js';
import { retryFilter } from './retry.filter.js';
import { serverGroupAffinityFilter } from './server-group-affinity.filter.js';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity.filter.js';

export type { HostFilter } from './host-filter.js';

/** Every filter by name, in the order they run when enabled. */
export const FILTERS: readonly HostFilter[] = [
  forcedHostFilter,
  retryFilter,
  computeFilter,
  availabilityZoneFilter,
  imagePropertiesFilter,
  serverGroupAffinityFilter,
  serverGroupAntiAffinityFilter,
  ramFilter,
  coreFilter,
  diskFilter,
];

export const FILTER_NAMES = FILTERS.map((filter) => filter.name);
