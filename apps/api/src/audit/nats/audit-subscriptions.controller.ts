/**
 * `POST /audit/v1/subscriptions` and `DELETE /audit/v1/subscriptions/{name}`: durable subscriptions to
 * the audit feed over NATS, each with credentials for its one consumer. Thin: AuditSubscriptions decides.
 */
import { Body, Controller, Delete, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { Policy } from '../../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { strictQuery } from '../../common/validation/query.js';
import { validateBody } from '../../common/validation/validate.js';
import { badRequest } from '../../common/http/api-error.js';
import { AUDIT_POLICY } from '../audit-feed.service.js';
import {
  AuditSubscriptions,
  CREATE_SUBSCRIPTION_SCHEMA,
  type CreateSubscriptionBody,
} from './audit-subscriptions.js';

const DELETE_QUERY = new Set(['project_id', 'all_projects']);

@Controller('audit/v1/subscriptions')
export class AuditSubscriptionsController {
  constructor(private readonly subscriptions: AuditSubscriptions) {}

  @Post()
  @Policy(AUDIT_POLICY, 'reader')
  async create(
    @Ctx() context: CallContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const { subscription } = validateBody<CreateSubscriptionBody>(CREATE_SUBSCRIPTION_SCHEMA, body);
    const grant = await this.subscriptions.open(context.principal, subscription);
    reply.code(grant.created ? 201 : 200);
    return grant.body;
  }

  @Delete(':name')
  @Policy(AUDIT_POLICY, 'reader')
  @HttpCode(204)
  async remove(
    @Ctx() context: CallContext,
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<void> {
    const text = strictQuery(query, DELETE_QUERY);
    const all = text('all_projects');
    if (all !== undefined && all !== 'true' && all !== 'false')
      throw badRequest(`all_projects must be true or false, got ${all}`);
    await this.subscriptions.remove(context.principal, name, text('project_id'), all === 'true');
  }
}
