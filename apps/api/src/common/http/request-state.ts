/**
 * What the API knows about a request beyond its bytes: its id (the correlation id of every event it
 * causes), which of the three APIs it addresses, the compute microversion, and who is asking. Set by the
 * request hooks and the auth guard on the Fastify request; read through `stateOf`.
 * Must never hold a token or password: the principal is what a token proved, not the token.
 */
import type { FastifyRequest } from 'fastify';

import type { EventContext } from '#libs/event-store';

import type { Principal } from '../auth/principal.js';
import type { Microversion } from './microversion.js';

/** Which API a path belongs to; it decides the error body shape and the response headers. */
export type ApiSurface = 'root' | 'identity' | 'compute' | 'image' | 'network';

export interface RequestState {
  readonly requestId: string;
  readonly surface: ApiSurface;
  /** Set on compute requests once the version headers have been accepted. */
  microversion: Microversion | null;
  principal: Principal | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    nimbus?: RequestState;
  }
}

export function stateOf(request: FastifyRequest): RequestState {
  const state = request.nimbus;
  if (!state) throw new Error('request state missing: the request hooks did not run');
  return state;
}

/** The envelope context of events a user's request causes: its id correlates them, its principal acted. */
export function eventContextOf(principal: Principal, requestId: string): EventContext {
  return {
    correlationId: requestId,
    causationId: null,
    actor: {
      userId: principal.userId,
      // An unscoped token acts for its user alone.
      projectId: principal.scoped ? principal.projectId : null,
      kind: principal.roles.includes('service') ? 'service' : 'user',
    },
  };
}
