/**
 * Neutron's floating IPs (part of the `router` extension): allocate one from an external network,
 * optionally pointing at a port at once; point it elsewhere or nowhere (`port_id: null`); release it.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';

import type { FloatingIpState } from '#libs/domain';

import { Policy } from '../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { eventContextOf } from '../common/http/request-state.js';
import { validateBody } from '../common/validation/validate.js';
import { FloatingIpService } from './floating-ip.service.js';
import { ID, IP, PROJECT, TEXT, resourceBody } from './neutron.schemas.js';
import { floatingIpView, listed, selected } from './neutron.views.js';

type Query = Record<string, unknown>;

const CREATE = resourceBody(
  'floatingip',
  {
    floating_network_id: ID,
    floating_ip_address: IP,
    subnet_id: ID,
    port_id: { type: ['string', 'null'], format: 'uuid' },
    fixed_ip_address: IP,
    description: TEXT,
    tenant_id: PROJECT,
    project_id: PROJECT,
  },
  ['floating_network_id'],
);
const UPDATE = resourceBody('floatingip', {
  port_id: { type: ['string', 'null'], format: 'uuid' },
  fixed_ip_address: IP,
  description: TEXT,
});

interface FloatingIpBody {
  readonly floatingip: {
    readonly floating_network_id: string;
    readonly floating_ip_address?: string;
    readonly subnet_id?: string;
    readonly port_id?: string | null;
    readonly fixed_ip_address?: string;
    readonly description?: string;
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

@Controller()
export class FloatingIpsController {
  constructor(private readonly floatingIps: FloatingIpService) {}

  private view(floatingIp: FloatingIpState): Record<string, unknown> {
    return floatingIpView(floatingIp, this.floatingIps.associationOf(floatingIp));
  }

  @Get('v2.0/floatingips')
  @Policy('get_floatingip', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Query): Record<string, unknown> {
    const views = this.floatingIps.floatingIps(context.principal).map((floatingIp) => this.view(floatingIp));
    return { floatingips: listed(views, query) };
  }

  @Get('v2.0/floatingips/:id')
  @Policy('get_floatingip', 'reader')
  show(@Ctx() context: CallContext, @Param('id') id: string, @Query() query: Query): Record<string, unknown> {
    return { floatingip: selected(this.view(this.floatingIps.floatingIp(context.principal, id)), query) };
  }

  @Post('v2.0/floatingips')
  @HttpCode(201)
  @Policy('create_floatingip', 'member')
  async create(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const { floatingip: request } = validateBody<FloatingIpBody>(CREATE, raw);
    const projectId = request.project_id ?? request.tenant_id;
    const floatingIp = await this.floatingIps.create(
      context.principal,
      {
        floatingNetworkId: request.floating_network_id.toLowerCase(),
        description: request.description ?? '',
        ...(request.floating_ip_address === undefined
          ? {}
          : { floatingIpAddress: request.floating_ip_address }),
        ...(request.subnet_id === undefined ? {} : { subnetId: request.subnet_id.toLowerCase() }),
        ...(request.port_id === undefined || request.port_id === null
          ? {}
          : { portId: request.port_id.toLowerCase() }),
        ...(request.fixed_ip_address === undefined ? {} : { fixedIpAddress: request.fixed_ip_address }),
        ...(projectId === undefined ? {} : { projectId }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { floatingip: this.view(floatingIp) };
  }

  @Put('v2.0/floatingips/:id')
  @Policy('update_floatingip', 'member')
  async update(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { floatingip: request } = validateBody<{ floatingip: Partial<FloatingIpBody['floatingip']> }>(
      UPDATE,
      raw,
    );
    const floatingIp = await this.floatingIps.update(
      context.principal,
      id,
      {
        ...(request.port_id === undefined ? {} : { portId: request.port_id?.toLowerCase() ?? null }),
        ...(request.fixed_ip_address === undefined ? {} : { fixedIpAddress: request.fixed_ip_address }),
        ...(request.description === undefined ? {} : { description: request.description }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { floatingip: this.view(floatingIp) };
  }

  @Delete('v2.0/floatingips/:id')
  @HttpCode(204)
  @Policy('delete_floatingip', 'member')
  async remove(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.floatingIps.delete(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }
}
