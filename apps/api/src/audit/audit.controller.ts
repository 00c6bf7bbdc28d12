/**
 * `GET /audit/v1/events`: the audit feed as JSON Lines, one CloudEvent (structured mode) a line, for
 * subscribers without NATS. Thin: AuditFeed checks the request and streams; the token's expiry, or its revocation, ends it.
 */
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { Policy, TOKEN_VALIDATOR, type TokenValidator } from '../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { openLineStream } from '../common/http/line-stream.js';
import { CLOCK, type Clock } from '../common/store/tokens.js';
import { AUDIT_POLICY, AuditFeed } from './audit-feed.service.js';

@Controller('audit/v1')
export class AuditController {
  constructor(
    private readonly feed: AuditFeed,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_VALIDATOR) private readonly tokens: TokenValidator,
  ) {}

  @Get('events')
  @Policy(AUDIT_POLICY, 'reader')
  async events(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const request = this.feed.request(context, query);
    const token = this.tokens.watch(context.principal);
    const out = openLineStream(reply, {
      deadline: new Date(context.principal.expiresAt),
      clock: this.clock,
      cancel: token.signal,
    });
    try {
      await this.feed.run(request, out);
    } finally {
      token.release();
    }
  }
}
