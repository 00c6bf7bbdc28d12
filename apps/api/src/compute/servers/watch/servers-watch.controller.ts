/**
 * `GET /v2.1/servers/watch`: a project's servers as a stream of Kubernetes-style changes (JSON Lines),
 * for clients that would otherwise poll `GET /servers/{id}`. Thin: ServersWatch plans and streams; the
 * token's expiry ends it. The list and show routes are untouched, so polling clients work as before.
 */
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { Policy, TOKEN_VALIDATOR, type TokenValidator } from '../../../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../../../common/http/context.decorator.js';
import { openLineStream } from '../../../common/http/line-stream.js';
import { CLOCK, type Clock } from '../../../common/store/tokens.js';
import { ServersWatch, WATCH_POLICY } from './servers-watch.service.js';

@Controller('v2.1/servers')
export class ServersWatchController {
  constructor(
    private readonly watch: ServersWatch,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_VALIDATOR) private readonly tokens: TokenValidator,
  ) {}

  @Get('watch')
  @Policy(WATCH_POLICY, 'reader')
  async watchServers(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const plan = await this.watch.plan(context, query);
    const token = this.tokens.watch(context.principal);
    const out = openLineStream(reply, {
      deadline: new Date(context.principal.expiresAt),
      clock: this.clock,
      cancel: token.signal,
    });
    try {
      await this.watch.run(context, plan, out);
    } finally {
      token.release();
    }
  }
}
