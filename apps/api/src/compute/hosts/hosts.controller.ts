/**
 * What Nova shows of compute hosts: `os-availability-zone` (zones for everyone, hosts for admins),
 * `os-hypervisors` (admins; inventory and usage folded from `host-<name>`), and `os-services` (admins;
 * up or down from HostLiveness, enable and disable appended as HostEnabled/HostDisabled). Thin: bodies
 * are checked here, HostsService acts, hosts.views renders.
 */
import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';

import { Policy } from '../../common/auth/auth.guard.js';
import { notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { queryText } from '../../common/validation/query.js';
import { validateBody } from '../../common/validation/validate.js';
import { SERVICE_UUIDS } from '../microversions.js';
import {
  SERVICE_LEGACY,
  SERVICE_REASON_LEGACY,
  SERVICE_UPDATE_253,
  type ServiceLegacyBody,
  type ServiceUpdate253Body,
} from './hosts.schemas.js';
import { HostsService, LEGACY_SERVICE_ACTIONS, type LegacyServiceAction } from './hosts.service.js';
import { hypervisorView, serviceView, zonesDetailView, zonesView } from './hosts.views.js';

@Controller('v2.1')
export class HostsController {
  constructor(private readonly hosts: HostsService) {}

  @Get('os-availability-zone')
  @Policy('os_compute_api:os-availability-zone:list', 'reader')
  zones(): Record<string, unknown> {
    return zonesView(this.hosts.all());
  }

  @Get('os-availability-zone/detail')
  @Policy('os_compute_api:os-availability-zone:detail', 'admin')
  zonesDetail(): Record<string, unknown> {
    return zonesDetailView(this.hosts.all(), (name) => this.hosts.isUp(name));
  }

  @Get('os-hypervisors')
  @Policy('os_compute_api:os-hypervisors:list', 'admin')
  hypervisors(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    return { hypervisors: this.hypervisorList(context, query, false) };
  }

  @Get('os-hypervisors/detail')
  @Policy('os_compute_api:os-hypervisors:list-detail', 'admin')
  hypervisorsDetail(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    return { hypervisors: this.hypervisorList(context, query, true) };
  }

  @Get('os-hypervisors/:id')
  @Policy('os_compute_api:os-hypervisors:show', 'admin')
  hypervisor(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    const host = this.hosts.hypervisor(id);
    return { hypervisor: hypervisorView(host, this.hosts.isUp(host.state.name), true, context.microversion) };
  }

  private hypervisorList(
    context: CallContext,
    query: Record<string, unknown>,
    detail: boolean,
  ): Record<string, unknown>[] {
    return this.hosts
      .hypervisors(queryText(query, 'hypervisor_hostname_pattern'))
      .map((host) => hypervisorView(host, this.hosts.isUp(host.state.name), detail, context.microversion));
  }

  @Get('os-services')
  @Policy('os_compute_api:os-services:list', 'admin')
  services(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const hosts = this.hosts.services(queryText(query, 'host'), queryText(query, 'binary'));
    return {
      services: hosts.map((host) =>
        serviceView(host, this.hosts.isUp(host.state.name), context.microversion),
      ),
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
      const request = validateBody<ServiceUpdate253Body>(SERVICE_UPDATE_253, body);
      const host = await this.hosts.updateByUuid(context, target, request);
      return { service: serviceView(host, this.hosts.isUp(host.state.name), version) };
    }
    if (!LEGACY_SERVICE_ACTIONS.includes(target)) throw notFound('Unknown action');
    const action = target as LegacyServiceAction;
    const schema = action === 'disable-log-reason' ? SERVICE_REASON_LEGACY : SERVICE_LEGACY;
    const request = validateBody<ServiceLegacyBody>(schema, body);
    await this.hosts.updateByName(context, action, request);
    return {
      service: {
        host: request.host,
        binary: request.binary,
        status: action === 'enable' ? 'enabled' : 'disabled',
        ...(action === 'disable-log-reason' ? { disabled_reason: request.disabled_reason } : {}),
      },
    };
  }
}
