/**
 * The network API's core resources (Neutron v2.0): version discovery, extensions, networks, subnets and
 * ports. Bodies are checked against schemas before anything is decided; unknown attributes are refused
 * (Neutron's "Unrecognized attribute(s)"), and every answer is the resource as it now reads.
 */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';

import { type FixedIpRequest, NetworkError } from '#libs/domain';

import { Policy, Public } from '../common/auth/auth.guard.js';
import { PublicUrl } from '../common/http/public-url.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Schema } from '../common/validation/schema.js';
import { validateBody } from '../common/validation/validate.js';
import type { ApiConfig } from '../config/api.config.js';
import { badRequest } from '../common/http/api-error.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { NetworkService } from './network.service.js';
import { FLAG, ID, IP, PROJECT, TEXT, resourceBody } from './neutron.schemas.js';
import { listed, networkView, portView, selected, subnetView } from './neutron.views.js';

type Query = Record<string, unknown>;

const POOL: Schema = {
  type: 'object',
  properties: { start: IP, end: IP },
  required: ['start', 'end'],
  additionalProperties: false,
};

const NETWORK_FIELDS: Record<string, Schema> = {
  name: TEXT,
  description: TEXT,
  admin_state_up: FLAG,
  shared: FLAG,
  'router:external': FLAG,
  mtu: { type: 'integer', minimum: 68, maximum: 9000 },
  port_security_enabled: { type: 'boolean', enum: [true] },
  availability_zone_hints: { type: 'array', maxItems: 0 },
};
const NETWORK_CREATE = resourceBody('network', {
  ...NETWORK_FIELDS,
  tenant_id: PROJECT,
  project_id: PROJECT,
});
const NETWORK_UPDATE = resourceBody('network', NETWORK_FIELDS);

interface NetworkBody {
  readonly network: {
    readonly name?: string;
    readonly description?: string;
    readonly admin_state_up?: boolean;
    readonly shared?: boolean;
    readonly 'router:external'?: boolean;
    readonly mtu?: number;
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

const ROUTE: Schema = {
  type: 'object',
  properties: { destination: { type: 'string', maxLength: 49 }, nexthop: IP },
  required: ['destination', 'nexthop'],
  additionalProperties: false,
};
const SUBNET_UPDATE_FIELDS: Record<string, Schema> = {
  name: TEXT,
  description: TEXT,
  enable_dhcp: FLAG,
  dns_nameservers: { type: 'array', items: IP, maxItems: 32 },
  host_routes: { type: 'array', items: ROUTE, maxItems: 32 },
  gateway_ip: { type: ['string', 'null'], maxLength: 45 },
};
const SUBNET_CREATE = resourceBody(
  'subnet',
  {
    ...SUBNET_UPDATE_FIELDS,
    network_id: ID,
    ip_version: { type: 'integer', enum: [4, 6] },
    cidr: { type: 'string', minLength: 3, maxLength: 49 },
    allocation_pools: { type: 'array', items: POOL, maxItems: 32 },
    tenant_id: PROJECT,
    project_id: PROJECT,
  },
  ['network_id', 'cidr', 'ip_version'],
);
const SUBNET_UPDATE = resourceBody('subnet', SUBNET_UPDATE_FIELDS);

interface SubnetBody {
  readonly subnet: {
    readonly name?: string;
    readonly description?: string;
    readonly enable_dhcp?: boolean;
    readonly dns_nameservers?: readonly string[];
    readonly host_routes?: readonly { readonly destination: string; readonly nexthop: string }[];
    readonly network_id: string;
    readonly ip_version: 4 | 6;
    readonly cidr: string;
    readonly gateway_ip?: string | null;
    readonly allocation_pools?: readonly { readonly start: string; readonly end: string }[];
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

const PORT_UPDATE_FIELDS: Record<string, Schema> = {
  name: TEXT,
  description: TEXT,
  admin_state_up: FLAG,
  device_id: TEXT,
  device_owner: TEXT,
  security_groups: { type: 'array', items: ID, maxItems: 32 },
  fixed_ips: {
    type: 'array',
    maxItems: 32,
    items: {
      type: 'object',
      properties: { subnet_id: ID, ip_address: IP },
      minProperties: 1,
      additionalProperties: false,
    },
  },
};
const PORT_CREATE = resourceBody(
  'port',
  {
    ...PORT_UPDATE_FIELDS,
    network_id: ID,
    mac_address: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$' },
    tenant_id: PROJECT,
    project_id: PROJECT,
  },
  ['network_id'],
);
const PORT_UPDATE = resourceBody('port', PORT_UPDATE_FIELDS);

interface PortBody {
  readonly port: {
    readonly name?: string;
    readonly description?: string;
    readonly admin_state_up?: boolean;
    readonly device_id?: string;
    readonly device_owner?: string;
    readonly security_groups?: readonly string[];
    readonly network_id: string;
    readonly mac_address?: string;
    readonly fixed_ips?: readonly { readonly subnet_id?: string; readonly ip_address?: string }[];
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

/** The extensions whose behaviour this API has, by Neutron's aliases. */
const EXTENSIONS = [
  ['external-net', 'Neutron external network', 'Adds external network attribute to network resource.'],
  ['security-group', 'security-group', 'The security groups extension.'],
  [
    'router',
    'Neutron L3 Router',
    'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  ],
  ['extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'],
  [
    'ext-gw-mode',
    'Neutron L3 Configurable external gateway mode',
    'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  ],
  ['quotas', 'Quota management support', 'Expose functions for quotas management per project'],
  [
    'quota_details',
    'Quota details management support',
    'Expose functions for quotas usage statistics per project',
  ],
  ['project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'],
  [
    'standard-attr-description',
    'standard-attr-description',
    'Extension to add descriptions to standard attributes',
  ],
  [
    'standard-attr-timestamp',
    'Resource timestamps',
    'Adds created_at and updated_at fields to all Neutron resources.',
  ],
  ['binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'],
  ['port-security', 'Port Security', 'Provides port security'],
  ['net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'],
  ['availability_zone', 'Availability Zone', 'The availability zone extension.'],
  ['network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.'],
] as const;

@Controller()
export class NetworksController {
  constructor(
    private readonly network: NetworkService,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get()
  @Public()
  versions(): Record<string, unknown> {
    const href = `${this.publicUrl.get()}${this.config.networkPrefix}/v2.0/`;
    return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href, rel: 'self' }] }] };
  }

  @Get('v2.0')
  @Policy('get_resources', 'reader')
  resources(): Record<string, unknown> {
    const base = `${this.publicUrl.get()}${this.config.networkPrefix}/v2.0`;
    const resources = [
      'network',
      'subnet',
      'port',
      'security_group',
      'security_group_rule',
      'router',
      'quota',
    ];
    return {
      resources: resources.map((name) => ({
        name,
        collection: `${name}s`,
        links: [{ href: `${base}/${name.replaceAll('_', '-')}s`, rel: 'self' }],
      })),
    };
  }

  @Get('v2.0/extensions')
  @Policy('get_extension', 'reader')
  extensions(): Record<string, unknown> {
    return {
      extensions: EXTENSIONS.map(([alias, name, description]) => ({
        alias,
        name,
        description,
        updated: '2013-01-01T00:00:00-00:00',
        links: [],
      })),
    };
  }

  @Get('v2.0/extensions/:alias')
  @Policy('get_extension', 'reader')
  extension(@Param('alias') alias: string): Record<string, unknown> {
    const found = EXTENSIONS.find(([known]) => known === alias);
    if (!found)
      throw new NetworkError('NotFound', 'HTTPNotFound', `Extension with alias ${alias} does not exist`);
    const [, name, description] = found;
    return { extension: { alias, name, description, updated: '2013-01-01T00:00:00-00:00', links: [] } };
  }

  // Networks ------------------------------------------------------------------------------------------------

  @Get('v2.0/networks')
  @Policy('get_network', 'reader')
  listNetworks(@Ctx() context: CallContext, @Query() query: Query): Record<string, unknown> {
    return { networks: listed(this.network.networks(context.principal).map(networkView), query) };
  }

  @Get('v2.0/networks/:id')
  @Policy('get_network', 'reader')
  showNetwork(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Query,
  ): Record<string, unknown> {
    return { network: selected(networkView(this.network.network(context.principal, id)), query) };
  }

  @Post('v2.0/networks')
  @HttpCode(201)
  @Policy('create_network', 'member')
  async createNetwork(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    return oneOrBulk(
      'network',
      raw,
      (one) => this.createNetworkFrom(context, one),
      (made) =>
        this.network.deleteNetwork(
          context.principal,
          String(made['id']),
          eventContextOf(context.principal, context.requestId),
        ),
    );
  }

  private async createNetworkFrom(context: CallContext, raw: unknown): Promise<Record<string, unknown>> {
    const { network: request } = validateBody<NetworkBody>(NETWORK_CREATE, raw);
    const network = await this.network.createNetwork(
      context.principal,
      {
        name: request.name ?? '',
        description: request.description ?? '',
        shared: request.shared ?? false,
        external: request['router:external'] ?? false,
        adminStateUp: request.admin_state_up ?? true,
        ...(request.mtu === undefined ? {} : { mtu: request.mtu }),
        ...projectOf(request),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return networkView(network);
  }

  @Put('v2.0/networks/:id')
  @Policy('update_network', 'member')
  async updateNetwork(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { network: request } = validateBody<NetworkBody>(NETWORK_UPDATE, raw);
    const network = await this.network.updateNetwork(
      context.principal,
      id,
      {
        name: request.name,
        description: request.description,
        shared: request.shared,
        external: request['router:external'],
        adminStateUp: request.admin_state_up,
        mtu: request.mtu,
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { network: networkView(network) };
  }

  @Delete('v2.0/networks/:id')
  @HttpCode(204)
  @Policy('delete_network', 'member')
  async deleteNetwork(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.network.deleteNetwork(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }

  // Subnets -------------------------------------------------------------------------------------------------

  @Get('v2.0/subnets')
  @Policy('get_subnet', 'reader')
  listSubnets(@Ctx() context: CallContext, @Query() query: Query): Record<string, unknown> {
    return { subnets: listed(this.network.subnets(context.principal).map(subnetView), query) };
  }

  @Get('v2.0/subnets/:id')
  @Policy('get_subnet', 'reader')
  showSubnet(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Query,
  ): Record<string, unknown> {
    return { subnet: selected(subnetView(this.network.subnet(context.principal, id)), query) };
  }

  @Post('v2.0/subnets')
  @HttpCode(201)
  @Policy('create_subnet', 'member')
  async createSubnet(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    return oneOrBulk(
      'subnet',
      raw,
      (one) => this.createSubnetFrom(context, one),
      (made) =>
        this.network.deleteSubnet(
          context.principal,
          String(made['id']),
          eventContextOf(context.principal, context.requestId),
        ),
    );
  }

  private async createSubnetFrom(context: CallContext, raw: unknown): Promise<Record<string, unknown>> {
    const { subnet: request } = validateBody<SubnetBody>(SUBNET_CREATE, raw);
    const subnet = await this.network.createSubnet(
      context.principal,
      {
        networkId: request.network_id.toLowerCase(),
        name: request.name ?? '',
        description: request.description ?? '',
        ipVersion: request.ip_version,
        cidr: request.cidr,
        ...(request.gateway_ip === undefined ? {} : { gatewayIp: request.gateway_ip }),
        ...(request.allocation_pools === undefined ? {} : { allocationPools: request.allocation_pools }),
        enableDhcp: request.enable_dhcp ?? true,
        dnsNameservers: request.dns_nameservers ?? [],
        ...(request.host_routes === undefined ? {} : { hostRoutes: request.host_routes }),
        ...projectOf(request),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return subnetView(subnet);
  }

  @Put('v2.0/subnets/:id')
  @Policy('update_subnet', 'member')
  async updateSubnet(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { subnet: request } = validateBody<SubnetBody>(SUBNET_UPDATE, raw);
    const subnet = await this.network.updateSubnet(
      context.principal,
      id,
      {
        name: request.name,
        description: request.description,
        enableDhcp: request.enable_dhcp,
        dnsNameservers: request.dns_nameservers,
        hostRoutes: request.host_routes,
        gatewayIp: request.gateway_ip,
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { subnet: subnetView(subnet) };
  }

  @Delete('v2.0/subnets/:id')
  @HttpCode(204)
  @Policy('delete_subnet', 'member')
  async deleteSubnet(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.network.deleteSubnet(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }

  // Ports ---------------------------------------------------------------------------------------------------

  @Get('v2.0/ports')
  @Policy('get_port', 'reader')
  listPorts(@Ctx() context: CallContext, @Query() query: Query): Record<string, unknown> {
    return { ports: listed(this.network.ports(context.principal).map(portView), query) };
  }

  @Get('v2.0/ports/:id')
  @Policy('get_port', 'reader')
  showPort(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Query,
  ): Record<string, unknown> {
    return { port: selected(portView(this.network.port(context.principal, id)), query) };
  }

  @Post('v2.0/ports')
  @HttpCode(201)
  @Policy('create_port', 'member')
  async createPort(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    return oneOrBulk(
      'port',
      raw,
      (one) => this.createPortFrom(context, one),
      (made) =>
        this.network.deletePort(
          context.principal,
          String(made['id']),
          eventContextOf(context.principal, context.requestId),
        ),
    );
  }

  private async createPortFrom(context: CallContext, raw: unknown): Promise<Record<string, unknown>> {
    const { port: request } = validateBody<PortBody>(PORT_CREATE, raw);
    const port = await this.network.createPort(
      context.principal,
      {
        networkId: request.network_id.toLowerCase(),
        name: request.name ?? '',
        description: request.description ?? '',
        ...(request.mac_address === undefined ? {} : { macAddress: request.mac_address }),
        ...(request.fixed_ips === undefined ? {} : { fixedIps: fixedIpsOf(request.fixed_ips) }),
        deviceId: request.device_id ?? '',
        deviceOwner: request.device_owner ?? '',
        adminStateUp: request.admin_state_up ?? true,
        ...(request.security_groups === undefined ? {} : { securityGroupIds: request.security_groups }),
        ...projectOf(request),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return portView(port);
  }

  @Put('v2.0/ports/:id')
  @Policy('update_port', 'member')
  async updatePort(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { port: request } = validateBody<PortBody>(PORT_UPDATE, raw);
    const port = await this.network.updatePort(
      context.principal,
      id,
      {
        name: request.name,
        description: request.description,
        adminStateUp: request.admin_state_up,
        deviceId: request.device_id,
        deviceOwner: request.device_owner,
        securityGroupIds: request.security_groups,
        fixedIps: request.fixed_ips && fixedIpsOf(request.fixed_ips),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { port: portView(port) };
  }

  @Delete('v2.0/ports/:id')
  @HttpCode(204)
  @Policy('delete_port', 'member')
  async deletePort(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.network.deletePort(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }
}

/**
 * One resource, or Neutron's bulk form (`{"ports": [...]}`): all are made, or none (those made before
 * one was refused are deleted again, and the refusal is the answer).
 */
async function oneOrBulk(
  singular: string,
  raw: unknown,
  create: (body: unknown) => Promise<Record<string, unknown>>,
  undo: (made: Record<string, unknown>) => Promise<void>,
): Promise<Record<string, unknown>> {
  const plural = `${singular}s`;
  if (typeof raw !== 'object' || raw === null || !(plural in raw)) return { [singular]: await create(raw) };
  const items: unknown = (raw as Record<string, unknown>)[plural];
  if (!Array.isArray(items) || items.length === 0 || Object.keys(raw).length !== 1) {
    throw badRequest(`Invalid input for ${plural}: a non-empty list of ${singular}s is expected.`);
  }
  const made: Record<string, unknown>[] = [];
  try {
    for (const item of items as unknown[]) made.push(await create({ [singular]: item }));
  } catch (error) {
    for (const done of made.reverse()) await undo(done).catch(() => undefined);
    throw error;
  }
  return { [plural]: made };
}

/** A body's `fixed_ips` as requests to allocate. */
function fixedIpsOf(
  entries: readonly { readonly subnet_id?: string; readonly ip_address?: string }[],
): FixedIpRequest[] {
  return entries.map((ip) => ({
    ...(ip.subnet_id === undefined ? {} : { subnetId: ip.subnet_id.toLowerCase() }),
    ...(ip.ip_address === undefined ? {} : { ipAddress: ip.ip_address }),
  }));
}

/** The owner a body names (`project_id`, or the older `tenant_id`), for the service to check. */
function projectOf(request: { readonly tenant_id?: string; readonly project_id?: string }): {
  projectId?: string;
} {
  const projectId = request.project_id ?? request.tenant_id;
  return projectId === undefined ? {} : { projectId };
}
