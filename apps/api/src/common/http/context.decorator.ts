/**
 * `@Ctx()` hands a handler the request's state (id, microversion) with the authenticated principal, so
 * controllers never touch the raw request for them.
 */
import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { Principal } from '../auth/principal.js';
import { MIN_MICROVERSION, type Microversion } from './microversion.js';
import { stateOf } from './request-state.js';

export interface CallContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly microversion: Microversion;
}

export const Ctx = createParamDecorator((_data: unknown, context: ExecutionContext): CallContext => {
  const state = stateOf(context.switchToHttp().getRequest<FastifyRequest>());
  if (!state.principal) throw new Error('@Ctx() on a route without authentication');
  return {
    requestId: state.requestId,
    principal: state.principal,
    microversion: state.microversion ?? MIN_MICROVERSION,
  };
});
