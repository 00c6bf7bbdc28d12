/**
 * `/v2.1/os-server-groups`: list, create, show, delete. Bodies and views per microversion as Nova's:
 * `policies` lists before 2.64, `policy` and `rules` from 2.64, `project_id` and `user_id` from 2.13.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';

import { Policy } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { badRequest } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import type { Microversion } from '../../common/http/microversion.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { NAME } from '../../common/validation/parameter-types.js';
import type { Schema } from '../../common/validation/schema.js';
import { validateBody } from '../../common/validation/validate.js';
import { queryText } from '../../common/validation/query.js';
import { type GroupWithMembers, ServerGroupsService } from './server-groups.service.js';
import { GROUP_POLICY, SERVER_GROUP_OWNERS, SOFT_GROUP_POLICIES } from '../microversions.js';

const POLICIES = (version: Microversion): string[] =>
  version.atLeast(SOFT_GROUP_POLICIES)
    ? ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']
    : ['anti-affinity', 'affinity'];

function createSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = version.atLeast(GROUP_POLICY)
    ? {
        name: NAME,
        policy: { type: 'string', enum: POLICIES(version) },
        rules: {
          type: 'object',
          properties: {
            max_server_per_host: {
              type: ['integer', 'string'],
              pattern: '^[0-9]*$',
              minimum: 1,
              minLength: 1,
            },
          },
          additionalProperties: false,
        },
      }
    : {
        name: NAME,
        policies: {
          type: 'array',
          items: { type: 'string', enum: POLICIES(version) },
          uniqueItems: true,
          minItems: 1,
          maxItems: 1,
        },
      };
  return {
    type: 'object',
    properties: {
      server_group: {
        type: 'object',
        properties,
        required: version.atLeast(GROUP_POLICY) ? ['name', 'policy'] : ['name', 'policies'],
        additionalProperties: false,
      },
    },
    required: ['server_group'],
    additionalProperties: false,
  };
}

interface CreateBody {
  readonly server_group: {
    readonly name: string;
    readonly policy?: string;
    readonly policies?: readonly string[];
    readonly rules?: Readonly<Record<string, unknown>>;
  };
}

function view(group: GroupWithMembers, version: Microversion): Record<string, unknown> {
  return {
    id: group.id,
    name: group.name,
    ...(version.atLeast(GROUP_POLICY)
      ? { policy: group.policy, rules: {} }
      : { policies: [group.policy], metadata: {} }),
    members: group.members,
    ...(version.atLeast(SERVER_GROUP_OWNERS) ? { project_id: group.projectId, user_id: group.userId } : {}),
  };
}

function count(query: Record<string, unknown>, name: string, fallback: number): number {
  const text = queryText(query, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text))
    throw badRequest(
      `Invalid input for query parameters ${name}. Value: ${text.slice(0, 32)}. '${text.slice(0, 32)}' does not match '^[0-9]*$'`,
    );
  return Number(text);
}

@Controller('v2.1/os-server-groups')
export class ServerGroupsController {
  constructor(private readonly groups: ServerGroupsService) {}

  @Get()
  @Policy('os_compute_api:os-server-groups:index', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const allProjects = query['all_projects'] !== undefined && isAdmin(context.principal);
    const groups = this.groups.list(
      context.principal,
      allProjects,
      count(query, 'offset', 0),
      count(query, 'limit', 1000),
    );
    return { server_groups: groups.map((group) => view(group, context.microversion)) };
  }

  @Post()
  @HttpCode(200)
  @Policy('os_compute_api:os-server-groups:create', 'member')
  async create(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { server_group: request } = validateBody<CreateBody>(createSchema(context.microversion), body);
    if (request.rules !== undefined && Object.keys(request.rules).length > 0) {
      throw badRequest(
        request.policy === 'anti-affinity'
          ? 'Server group rules are not supported by Nimbus.'
          : 'Only anti-affinity policy supports rules.',
      );
    }
    const policy = request.policy ?? request.policies?.[0] ?? '';
    const group = await this.groups.create(
      context.principal,
      request.name,
      policy,
      eventContextOf(context.principal, context.requestId),
    );
    return { server_group: view(group, context.microversion) };
  }

  @Get(':id')
  @Policy('os_compute_api:os-server-groups:show', 'reader')
  show(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    return { server_group: view(this.groups.show(context.principal, id), context.microversion) };
  }

  @Delete(':id')
  @HttpCode(204)
  @Policy('os_compute_api:os-server-groups:delete', 'member')
  async delete(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.groups.delete(context.principal, id, eventContextOf(context.principal, context.requestId));
  }
}
