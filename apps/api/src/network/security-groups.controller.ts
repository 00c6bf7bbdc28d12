/**
 * Neutron's security groups and their rules: a project's `default` group appears the first time its
 * groups are listed (as Neutron makes it), rules are created and deleted one at a time, and a group in
 * use or a project's default cannot be deleted.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';

import { type EtherType, RULE_PROTOCOLS, type RuleDirection, type RuleProtocol } from '#libs/contracts';
import { NetworkError } from '#libs/domain';

import { Policy } from '../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Schema } from '../common/validation/schema.js';
import { validateBody } from '../common/validation/validate.js';
import { NetworkService } from './network.service.js';
import { PROJECT, TEXT } from './neutron.schemas.js';
import { listed, ruleView, securityGroupView, selected } from './neutron.views.js';

type Query = Record<string, unknown>;

/** Any integer: Neutron's own check names the bad port. */
const PORT: Schema = { type: ['integer', 'null'] };

const GROUP_CREATE: Schema = {
  type: 'object',
  properties: {
    security_group: {
      type: 'object',
      properties: {
        name: TEXT,
        description: TEXT,
        tenant_id: PROJECT,
        project_id: PROJECT,
        stateful: { type: 'boolean', enum: [true] },
      },
      additionalProperties: false,
    },
  },
  required: ['security_group'],
  additionalProperties: false,
};
const GROUP_UPDATE: Schema = {
  type: 'object',
  properties: {
    security_group: {
      type: 'object',
      properties: { name: TEXT, description: TEXT },
      additionalProperties: false,
    },
  },
  required: ['security_group'],
  additionalProperties: false,
};

const RULE_CREATE: Schema = {
  type: 'object',
  properties: {
    security_group_rule: {
      type: 'object',
      properties: {
        security_group_id: { type: 'string', format: 'uuid' },
        direction: { type: 'string', enum: ['ingress', 'egress'] },
        ethertype: { type: 'string', enum: ['IPv4', 'IPv6'] },
        protocol: { type: ['string', 'integer', 'null'] },
        port_range_min: PORT,
        port_range_max: PORT,
        remote_ip_prefix: { type: ['string', 'null'], maxLength: 49 },
        remote_group_id: { type: ['string', 'null'], maxLength: 255 },
        description: TEXT,
        tenant_id: PROJECT,
        project_id: PROJECT,
      },
      required: ['security_group_id', 'direction'],
      additionalProperties: false,
    },
  },
  required: ['security_group_rule'],
  additionalProperties: false,
};

interface GroupBody {
  readonly security_group: {
    readonly name?: string;
    readonly description?: string;
    readonly tenant_id?: string;
    readonly project_id?: string;
  };
}

interface RuleBody {
  readonly security_group_rule: {
    readonly security_group_id: string;
    readonly direction: RuleDirection;
    readonly ethertype?: EtherType;
    readonly protocol?: string | number | null;
    readonly port_range_min?: number | null;
    readonly port_range_max?: number | null;
    readonly remote_ip_prefix?: string | null;
    readonly remote_group_id?: string | null;
    readonly description?: string;
  };
}

/** The protocol as Neutron keeps it: a name in lower case, or a number as the text it was given in. */
function protocolOf(value: string | number | null | undefined): RuleProtocol | null {
  if (value === undefined || value === null || value === '' || value === 'any') return null;
  const text = String(value).toLowerCase();
  if (
    !(RULE_PROTOCOLS as readonly string[]).includes(text) &&
    !/^([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$/.test(text)
  ) {
    throw new NetworkError(
      'BadRequest',
      'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ${String(value)} not supported. Only protocol values [${RULE_PROTOCOLS.join(', ')}] and integer representations [0 to 255] are supported.`,
    );
  }
  return text;
}

@Controller('v2.0')
export class SecurityGroupsController {
  constructor(private readonly network: NetworkService) {}

  @Get('security-groups')
  @Policy('get_security_group', 'reader')
  async listGroups(@Ctx() context: CallContext, @Query() query: Query): Promise<Record<string, unknown>> {
    const groups = await this.network.securityGroups(
      context.principal,
      eventContextOf(context.principal, context.requestId),
    );
    const views = groups.map((group) => securityGroupView(group, this.network.isDefaultGroup(group)));
    return { security_groups: listed(views, query) };
  }

  @Get('security-groups/:id')
  @Policy('get_security_group', 'reader')
  showGroup(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Query,
  ): Record<string, unknown> {
    const group = this.network.securityGroup(context.principal, id);
    return { security_group: selected(securityGroupView(group, this.network.isDefaultGroup(group)), query) };
  }

  @Post('security-groups')
  @HttpCode(201)
  @Policy('create_security_group', 'member')
  async createGroup(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const { security_group: request } = validateBody<GroupBody>(GROUP_CREATE, raw);
    const projectId = request.project_id ?? request.tenant_id;
    const group = await this.network.createSecurityGroup(
      context.principal,
      {
        name: request.name ?? '',
        description: request.description ?? '',
        ...(projectId === undefined ? {} : { projectId }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    return { security_group: securityGroupView(group, false) };
  }

  @Put('security-groups/:id')
  @Policy('update_security_group', 'member')
  async updateGroup(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const { security_group: request } = validateBody<GroupBody>(GROUP_UPDATE, raw);
    const group = await this.network.updateSecurityGroup(
      context.principal,
      id,
      { name: request.name, description: request.description },
      eventContextOf(context.principal, context.requestId),
    );
    return { security_group: securityGroupView(group, this.network.isDefaultGroup(group)) };
  }

  @Delete('security-groups/:id')
  @HttpCode(204)
  @Policy('delete_security_group', 'member')
  async deleteGroup(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.network.deleteSecurityGroup(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }

  @Get('security-group-rules')
  @Policy('get_security_group_rule', 'reader')
  async listRules(@Ctx() context: CallContext, @Query() query: Query): Promise<Record<string, unknown>> {
    const groups = await this.network.securityGroups(
      context.principal,
      eventContextOf(context.principal, context.requestId),
    );
    const views = groups.flatMap((group) =>
      group.rules.map((rule) => ruleView(group, rule, this.network.isDefaultGroup(group))),
    );
    return { security_group_rules: listed(views, query) };
  }

  @Get('security-group-rules/:id')
  @Policy('get_security_group_rule', 'reader')
  showRule(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Query,
  ): Record<string, unknown> {
    const group = this.network.rule(context.principal, id);
    const rule = group.rules.find((candidate) => candidate.id === id.toLowerCase());
    if (!rule)
      throw new NetworkError(
        'NotFound',
        'SecurityGroupRuleNotFound',
        `Security group rule ${id} does not exist`,
      );
    return {
      security_group_rule: selected(ruleView(group, rule, this.network.isDefaultGroup(group)), query),
    };
  }

  @Post('security-group-rules')
  @HttpCode(201)
  @Policy('create_security_group_rule', 'member')
  async createRule(@Ctx() context: CallContext, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const { security_group_rule: request } = validateBody<RuleBody>(RULE_CREATE, raw);
    const ruleRequest = {
      direction: request.direction,
      ethertype: request.ethertype ?? ('IPv4' as const),
      protocol: protocolOf(request.protocol),
      portRangeMin: request.port_range_min ?? null,
      portRangeMax: request.port_range_max ?? null,
      remoteIpPrefix: request.remote_ip_prefix ?? null,
      remoteGroupId: request.remote_group_id?.toLowerCase() ?? null,
      description: request.description ?? '',
    };
    const { group, rule } = await this.network.addRule(
      context.principal,
      request.security_group_id.toLowerCase(),
      ruleRequest,
      eventContextOf(context.principal, context.requestId),
    );
    return { security_group_rule: ruleView(group, rule, this.network.isDefaultGroup(group)) };
  }

  @Delete('security-group-rules/:id')
  @HttpCode(204)
  @Policy('delete_security_group_rule', 'member')
  async deleteRule(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.network.removeRule(
      context.principal,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }
}
