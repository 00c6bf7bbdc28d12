/**
 * Neutron's routers (the `router`, `extraroute` and `ext-gw-mode` extensions): create, show, list,
 * update (attributes, extra routes, the external gateway) and delete, and the interface actions that
 * put a router on a subnet (by the subnet, or by a free port) and take it off again.
 * `external_gateway_info` of `{}` or null means no gateway, as Neutron reads it.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';

import type { RouterState } from '#libs/domain';

import { Policy } from '../common/auth/auth.guard.js';
import { badRequest } from '../common/http/api-error.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Schema } from '../common/validation/schema.js';
import { validateBody } from '../common/validation/validate.js';
import { ID, IP, PROJECT, TEXT, resourceBody } from './neutron.schemas.js';
import { listed, routerView, selected } from './neutron.views.js';
import {
  type GatewayInfo,
  type InterfaceTarget,
  type RouterInterface,
  RouterService,
} from './router.service.js';

type Query = Record<string, unknown>;

const GATEWAY: Schema = {
  type: ['object', 'null'],
  properties: {
    network_id: ID,
    enable_snat: { type: 'boolean' },
    external_fixed_ips: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        properties: { subnet_id: ID, ip_address: IP },
        minProperties: 1,
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};
const ROUTES: Schema = {
  type: ['array', 'null'],
  maxItems: 64,
  items: {
    type: 'object',
    properties: { destination: { type: 'string', maxLength: 49 }, nexthop: IP },
    required: ['destination', 'nexthop'],
    additionalProperties: false,
  },
};
const ROUTER_FIELDS: Record<string, Schema> = {
  name: TEXT,
  description: TEXT,
  admin_state_up: { type: 'boolean' },
  external_gateway_info: GATEWAY,
  // Neutron's DVR and HA routers are an admin's choice; this cloud's are neither.
  distributed: { type: 'boolean', enum: [false] },
  ha: { type: 'boolean', enum: [false] },
};

const ROUTER_CREATE = resourceBody('router', { ...ROUTER_FIELDS, tenant_id: PROJECT, project_id: PROJECT });
const ROUTER_UPDATE = resourceBody('router', { ...ROUTER_FIELDS, routes: ROUTES });
const INTERFACE: Schema = {
  type: 'object',
  properties: { subnet_id: ID, port_id: ID },
  additionalProperties: false,
};

interface GatewayBody {
  readonly network_id?: string;
  readonly enable_snat?: boolean;
  readonly external_fixed_ips?: readonly { readonly subnet_id?: string; readonly ip_address?: string }[];
}

interface RouterBody {
  readonly router: {
    readonly name?: string;
    readonly description?: string;
    readonly admin_state_up?: boolean;
    readonly external_gateway_info?: GatewayBody | null;
    readonly routes?: readonly { readonly destination: string; readonly nexthop: string }[] | null;
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

/** The gateway a body asks for: null for none (`{}` or null), as Neutron reads it. */
function gatewayOf(info: GatewayBody | null): GatewayInfo | null {
  if (info === null || info.network_id === undefined) {
    if (info && (info.enable_snat !== undefined || info.external_fixed_ips !== undefined)) {
      throw badRequest('Invalid input for external_gateway_info: network_id is required.');
    }
    return null;
  }
  return {
    networkId: info.network_id.toLowerCase(),
    ...(info.enable_snat === undefined ? {} : { enableSnat: info.enable_snat }),
    ...(info.external_fixed_ips === undefined
      ? {}
      : {
          fixedIps: info.external_fixed_ips.map((ip) => ({
            ...(ip.subnet_id === undefined ? {} : { subnetId: ip.subnet_id.toLowerCase() }),
            ...(ip.ip_address === undefined ? {} : { ipAddress: ip.ip_address }),
          })),
        }),
  };
}

/** An interface action's target: exactly one of a subnet or a port. */
function targetOf(raw: unknown, adding: boolean): InterfaceTarget {
  const body = validateBody<{ subnet_id?: string; port_id?: string }>(INTERFACE, raw);
  if (body.port_id !== undefined && body.subnet_id !== undefined && adding) {
    throw badRequest('Bad router request: Cannot specify both subnet-id and port-id.');
  }
  if (body.port_id !== undefined) return { portId: body.port_id.toLowerCase() };
  if (body.subnet_id !== undefined) return { subnetId: body.subnet_id.toLowerCase() };
  throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
}

const interfaceView = ({ router, port, subnetId }: RouterInterface): Record<string, unknown> => ({
  id: router.id,
  tenant_id: router.projectId,
  project_id: router.projectId,
  network_id: port.networkId,
  port_id: port.id,
  subnet_id: subnetId,
  subnet_ids: [subnetId],
});

@Controller()
export class RoutersController {
  constructor(private readonly routers: RouterService) {}

  private view(router: RouterState): Record<string, unknown> {
    return routerView(router, this.routers.gatewayPort(router));
  }

  @Get('v2.0/routers')
  @Policy('get_router', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Query): Record<string, unknown> {
    return {
      routers: listed(
        this.routers.routers(context.principal).map((router) => this.view(router)),
        query,
      ),
    };
  }

  @Get('v2.0/routers/:id')
  @Policy('get_router', 'reader')
  show(@Ctx() context: CallContext, @Param('id') id: string, @Query() query: Query): Record<string, unknown> {
    return { router: selected(this.view(this.routers.router(context.principal, id)), query) };
  }

  @Post('v2.0/routers')
  @HttpCode(201)
  @Policy('create_router', 'member')
  async create(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const { router: request } = validateBody<RouterBody>(ROUTER_CREATE, raw);
    const projectId = request.project_id ?? request.tenant_id;
    const router = await this.routers.createRouter(
      context.principal,
      {
        name: request.name ?? '',
        description: request.description ?? '',
        adminStateUp: request.admin_state_up ?? true,
        gateway:
          request.external_gateway_info === undefined ? null : gatewayOf(request.external_gateway_info),
        ...(projectId === undefined ? {} : { projectId }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { router: this.view(router) };
  }

  @Put('v2.0/routers/:id')
  @Policy('update_router', 'member')
  async update(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { router: request } = validateBody<RouterBody>(ROUTER_UPDATE, raw);
    const router = await this.routers.updateRouter(
      context.principal,
      id,
      {
        name: request.name,
        description: request.description,
        adminStateUp: request.admin_state_up,
        // Neutron reads `routes: null` as no routes.
        routes: request.routes === undefined ? undefined : (request.routes ?? []),
        ...(request.external_gateway_info === undefined
          ? {}
          : { gateway: gatewayOf(request.external_gateway_info) }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { router: this.view(router) };
  }

  @Delete('v2.0/routers/:id')
  @HttpCode(204)
  @Policy('delete_router', 'member')
  async remove(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.routers.deleteRouter(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }

  @Put('v2.0/routers/:id/add_router_interface')
  @Policy('add_router_interface', 'member')
  async addInterface(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const added = await this.routers.addInterface(
      context.principal,
      id,
      targetOf(raw, true),
      eventContextOf(context.principal, context.requestId),
    );
    return interfaceView(added);
  }

  @Put('v2.0/routers/:id/remove_router_interface')
  @Policy('remove_router_interface', 'member')
  async removeInterface(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const removed = await this.routers.removeInterface(
      context.principal,
      id,
      targetOf(raw, false),
      eventContextOf(context.principal, context.requestId),
    );
    return interfaceView(removed);
  }
}
