/**
 * How Nova shows compute hosts: availability zones, hypervisors and services, per microversion. Ids are
 * integers before 2.53 and UUIDs from 2.53. Pure renderings of what the host registry holds; whether a
 * host is up is given, never looked up here.
 */
import { freeResources, usedResources } from '#libs/domain';

import type { Microversion } from '../../common/http/microversion.js';
import { naiveMicros } from '../../common/http/timestamps.js';
import {
  CPU_INFO_OBJECT,
  HYPERVISOR_FIELDS_REMOVED,
  SERVICE_FORCED_DOWN,
  SERVICE_UUIDS,
} from '../microversions.js';
import type { KnownHost } from './host-registry.js';

/** The one service binary Nimbus hosts run, in Nova's name. */
export const SERVICE_BINARY = 'nova-compute';

const idOf = (host: KnownHost, version: Microversion): string | number =>
  version.atLeast(SERVICE_UUIDS) ? host.uuid : host.number;

export function hypervisorView(
  host: KnownHost,
  up: boolean,
  detail: boolean,
  version: Microversion,
): Record<string, unknown> {
  const { state } = host;
  const view: Record<string, unknown> = {
    id: idOf(host, version),
    hypervisor_hostname: state.name,
    state: up ? 'up' : 'down',
    status: state.enabled ? 'enabled' : 'disabled',
  };
  if (!detail) return view;
  // Nova's libvirt driver reports QEMU, its fake driver `fake`.
  view['hypervisor_type'] =
    state.hypervisorType === 'fake' ? 'fake' : (state.hypervisorType ?? 'qemu').toUpperCase();
  view['hypervisor_version'] = 0;
  view['host_ip'] = null;
  view['service'] = { id: idOf(host, version), host: state.name, disabled_reason: state.disabledReason };
  if (!version.atLeast(HYPERVISOR_FIELDS_REMOVED)) {
    const inventory = state.inventory;
    const used = usedResources(state);
    const free = freeResources(state);
    view['vcpus'] = inventory?.vcpus ?? 0;
    view['memory_mb'] = inventory?.ramMb ?? 0;
    view['local_gb'] = inventory?.diskGb ?? 0;
    view['vcpus_used'] = used.vcpus;
    view['memory_mb_used'] = used.ramMb + (inventory?.reservedRamMb ?? 0);
    view['local_gb_used'] = used.diskGb + (inventory?.reservedDiskGb ?? 0);
    view['free_ram_mb'] = free.ramMb;
    view['free_disk_gb'] = free.diskGb;
    view['current_workload'] = 0;
    view['running_vms'] = Object.keys(state.allocations).length;
    view['disk_available_least'] = free.diskGb;
    const cpuInfo = {
      arch: state.cpuArch ?? 'x86_64',
      model: null,
      vendor: null,
      features: [],
      topology: {},
    };
    view['cpu_info'] = version.atLeast(CPU_INFO_OBJECT) ? cpuInfo : JSON.stringify(cpuInfo);
  } else {
    view['uptime'] = null;
  }
  return view;
}

export function serviceView(host: KnownHost, up: boolean, version: Microversion): Record<string, unknown> {
  const { state } = host;
  return {
    id: idOf(host, version),
    binary: SERVICE_BINARY,
    disabled_reason: state.disabledReason,
    host: state.name,
    state: up ? 'up' : 'down',
    status: state.enabled ? 'enabled' : 'disabled',
    updated_at: naiveMicros(host.updatedAt),
    zone: state.availabilityZone,
    ...(version.atLeast(SERVICE_FORCED_DOWN) ? { forced_down: false } : {}),
  };
}

/** Zones for everyone: a zone is available when one of its hosts is enabled. */
export function zonesView(hosts: readonly KnownHost[]): Record<string, unknown> {
  const zones = new Map<string, boolean>();
  for (const host of hosts) {
    const zone = host.state.availabilityZone;
    zones.set(zone, (zones.get(zone) ?? false) || host.state.enabled);
  }
  return {
    availabilityZoneInfo: [...zones.entries()].map(([zoneName, available]) => ({
      zoneName,
      zoneState: { available },
      hosts: null,
    })),
  };
}

/** Zones with their hosts and services, for admins. */
export function zonesDetailView(
  hosts: readonly KnownHost[],
  isUp: (name: string) => boolean,
): Record<string, unknown> {
  const zones = new Map<string, KnownHost[]>();
  for (const host of hosts) {
    zones.set(host.state.availabilityZone, [...(zones.get(host.state.availabilityZone) ?? []), host]);
  }
  return {
    availabilityZoneInfo: [...zones.entries()].map(([zoneName, members]) => ({
      zoneName,
      zoneState: { available: members.some((host) => host.state.enabled) },
      hosts: Object.fromEntries(
        members.map((host) => [
          host.state.name,
          {
            [SERVICE_BINARY]: {
              available: host.state.enabled && isUp(host.state.name),
              active: host.state.enabled,
              updated_at: naiveMicros(host.updatedAt),
            },
          },
        ]),
      ),
    })),
  };
}
