/**
 * What Nova shows of compute hosts: `os-availability-zone` (zones for everyone, hosts for admins),
 * `os-hypervisors` (admins; inventory and usage folded from `host-<name>`), and `os-services` (admins;
 * up or down from HostLiveness, enable and disable appended as HostEnabled/HostDisabled). Ids are integers
 * before 2.53 and UUIDs from 2.53, as in Nova.
 */
import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';

import { HostDisabled, HostEnabled, build, streamFor } from '#libs/contracts';
import { freeResources, hostReducer, usedResources } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { Policy } from '../../common/auth/auth.guard.js';
import { badRequest, notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import type { Microversion } from '../../common/http/microversion.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { naiveMicros } from '../../common/http/timestamps.js';
import { ReadModelHub } from '../../common/store/read-model-hub.js';
import type { Schema } from '../../common/validation/schema.js';
import { validateBody } from '../../common/validation/validate.js';
import { queryText } from '../paging.js';
import { HostRegistry, type KnownHost } from './host-registry.js';
import {
  CPU_INFO_OBJECT,
  HYPERVISOR_FIELDS_REMOVED,
  SERVICE_FORCED_DOWN,
  SERVICE_UUIDS,
} from '../microversions.js';

const SERVICE_BINARY = 'nova-compute';

function hypervisorView(
  host: KnownHost,
  registry: HostRegistry,
  detail: boolean,
  version: Microversion,
): Record<string, unknown> {
  const { state } = host;
  const uuidIds = version.atLeast(SERVICE_UUIDS);
  const view: Record<string, unknown> = {
    id: uuidIds ? host.uuid : host.number,
    hypervisor_hostname: state.name,
    state: registry.isUp(state.name) ? 'up' : 'down',
    status: state.enabled ? 'enabled' : 'disabled',
  };
  if (!detail) return view;
  view['hypervisor_type'] = (state.hypervisorType ?? 'qemu').toUpperCase();
  view['hypervisor_version'] = 0;
  view['host_ip'] = null;
  view['service'] = {
    id: uuidIds ? host.uuid : host.number,
    host: state.name,
    disabled_reason: state.disabledReason,
  };
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

@Controller('v2.1')
export class HostsController {
  constructor(
    private readonly registry: HostRegistry,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  @Get('os-availability-zone')
  @Policy('os_compute_api:os-availability-zone:list', 'reader')
  zones(): Record<string, unknown> {
    const zones = new Map<string, boolean>();
    for (const host of this.registry.all()) {
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

  @Get('os-availability-zone/detail')
  @Policy('os_compute_api:os-availability-zone:detail', 'admin')
  zonesDetail(): Record<string, unknown> {
    const zones = new Map<string, KnownHost[]>();
    for (const host of this.registry.all()) {
      zones.set(host.state.availabilityZone, [...(zones.get(host.state.availabilityZone) ?? []), host]);
    }
    return {
      availabilityZoneInfo: [...zones.entries()].map(([zoneName, hosts]) => ({
        zoneName,
        zoneState: { available: hosts.some((host) => host.state.enabled) },
        hosts: Object.fromEntries(
          hosts.map((host) => [
            host.state.name,
            {
              [SERVICE_BINARY]: {
                available: host.state.enabled && this.registry.isUp(host.state.name),
                active: host.state.enabled,
                updated_at: naiveMicros(host.updatedAt),
              },
            },
          ]),
        ),
      })),
    };
  }

  @Get('os-hypervisors')
  @Policy('os_compute_api:os-hypervisors:list', 'admin')
  hypervisors(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    return {
      hypervisors: this.matching(query).map((host) =>
        hypervisorView(host, this.registry, false, context.microversion),
      ),
    };
  }

  @Get('os-hypervisors/detail')
  @Policy('os_compute_api:os-hypervisors:list-detail', 'admin')
  hypervisorsDetail(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    return {
      hypervisors: this.matching(query).map((host) =>
        hypervisorView(host, this.registry, true, context.microversion),
      ),
    };
  }

  @Get('os-hypervisors/:id')
  @Policy('os_compute_api:os-hypervisors:show', 'admin')
  hypervisor(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    const host = this.registry.byId(id);
    if (!host) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    return { hypervisor: hypervisorView(host, this.registry, true, context.microversion) };
  }

  private matching(query: Record<string, unknown>): KnownHost[] {
    const pattern = queryText(query, 'hypervisor_hostname_pattern');
    return this.registry.all().filter((host) => pattern === undefined || host.state.name.includes(pattern));
  }

  @Get('os-services')
  @Policy('os_compute_api:os-services:list', 'admin')
  services(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const host = queryText(query, 'host');
    const binary = queryText(query, 'binary');
    const hosts = this.registry
      .all()
      .filter(
        (candidate) =>
          (host === undefined || candidate.state.name === host) &&
          (binary === undefined || binary === SERVICE_BINARY),
      );
    return { services: hosts.map((candidate) => this.serviceView(candidate, context.microversion)) };
  }

  private serviceView(host: KnownHost, version: Microversion): Record<string, unknown> {
    const { state } = host;
    return {
      id: version.atLeast(SERVICE_UUIDS) ? host.uuid : host.number,
      binary: SERVICE_BINARY,
      disabled_reason: state.disabledReason,
      host: state.name,
      state: this.registry.isUp(state.name) ? 'up' : 'down',
      status: state.enabled ? 'enabled' : 'disabled',
      updated_at: naiveMicros(host.updatedAt),
      zone: state.availabilityZone,
      ...(version.atLeast(SERVICE_FORCED_DOWN) ? { forced_down: false } : {}),
    };
  }

  /**
   * Before 2.53: `PUT /os-services/{enable|disable|disable-log-reason}` with host and binary.
   * From 2.53: `PUT /os-services/{service uuid}` with status (and disabled_reason).
   */
  @Put('os-services/:target')
  @Policy('os_compute_api:os-services:update', 'admin')
  async updateService(
    @Ctx() context: CallContext,
    @Param('target') target: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const version = context.microversion;
    if (version.atLeast(SERVICE_UUIDS)) {
      const request = validateBody<{
        status?: 'enabled' | 'disabled';
        disabled_reason?: string;
        forced_down?: boolean;
      }>(SERVICE_UPDATE_253, body);
      const host = this.registry.byId(target);
      if (!host || host.uuid !== target) throw notFound(`Service ${target} could not be found.`);
      if (request.status === undefined && request.forced_down === undefined) {
        throw badRequest("At least one of 'status' or 'forced_down' should be specified.");
      }
      if (request.disabled_reason !== undefined && request.status !== 'disabled') {
        throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
      }
      if (request.status !== undefined)
        await this.setEnabled(
          context,
          host.state.name,
          request.status === 'enabled',
          request.disabled_reason,
        );
      const updated = this.registry.get(host.state.name) ?? host;
      return { service: this.serviceView(updated, version) };
    }
    const schema = target === 'disable-log-reason' ? SERVICE_REASON_LEGACY : SERVICE_LEGACY;
    if (!['enable', 'disable', 'disable-log-reason'].includes(target)) throw notFound('Unknown action');
    const request = validateBody<{ host: string; binary: string; disabled_reason?: string }>(schema, body);
    const host = this.registry.get(request.host);
    if (!host || request.binary !== SERVICE_BINARY)
      throw notFound(`Host '${request.host}' is not mapped to any cell`);
    const enable = target === 'enable';
    await this.setEnabled(context, host.state.name, enable, request.disabled_reason);
    return {
      service: {
        host: request.host,
        binary: request.binary,
        status: enable ? 'enabled' : 'disabled',
        ...(target === 'disable-log-reason' ? { disabled_reason: request.disabled_reason } : {}),
      },
    };
  }

  private async setEnabled(
    context: CallContext,
    host: string,
    enable: boolean,
    reason: string | undefined,
  ): Promise<void> {
    const event = enable
      ? build(HostEnabled, { host })
      : build(HostDisabled, { host, ...(reason === undefined || reason === '' ? {} : { reason }) });
    // Appended at the revision folded, like every write; repeating the host's current state adds nothing.
    const { appended } = await this.store.execute(
      streamFor('host', host),
      hostReducer,
      (state) =>
        state.enabled === enable && (enable || (state.disabledReason ?? undefined) === (reason || undefined))
          ? []
          : [event],
      eventContextOf(context.principal, context.requestId),
    );
    await this.hub.waitFor(appended?.position);
  }
}

const REASON: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\p{Cc}]*$' };

const SERVICE_UPDATE_253: Schema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    disabled_reason: REASON,
    forced_down: { type: 'boolean' },
  },
  additionalProperties: false,
};

const SERVICE_LEGACY: Schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255 },
    binary: { type: 'string', minLength: 1, maxLength: 255 },
  },
  required: ['host', 'binary'],
  additionalProperties: false,
};

const SERVICE_REASON_LEGACY: Schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255 },
    binary: { type: 'string', minLength: 1, maxLength: 255 },
    disabled_reason: REASON,
  },
  required: ['host', 'binary', 'disabled_reason'],
  additionalProperties: false,
};
