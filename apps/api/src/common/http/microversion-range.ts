/**
 * Routes that exist only in a range of compute microversions, declared on the route and enforced in one
 * place: `@Microversions({ from: REMOTE_CONSOLES })` or `@Microversions({ until: PROXY_APIS_REMOVED })`.
 * A request outside the range gets Nova's 404, after authentication and policy (as Nova's router checks
 * the version once the request has been authorised), and before the handler reads its body.
 * Must never be the only guard of a route: it says when a route exists, not who may call it.
 */
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { notFound } from './api-error.js';
import { MIN_MICROVERSION, type Microversion, type VersionChange } from './microversion.js';
import { stateOf } from './request-state.js';

/** `from`: the change that brought the route (inclusive); `until`: the change that removed it (exclusive). */
export interface VersionRange {
  readonly from?: VersionChange;
  readonly until?: VersionChange;
}

const RANGE_KEY = 'nimbus:microversions';

export function inRange(version: Microversion, range: VersionRange): boolean {
  if (range.from !== undefined && !version.atLeast(range.from)) return false;
  if (range.until !== undefined && version.atLeast(range.until)) return false;
  return true;
}

@Injectable()
export class MicroversionRangeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const range = this.reflector.getAllAndOverride<VersionRange | undefined>(RANGE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (range === undefined) return true;
    const version = stateOf(context.switchToHttp().getRequest<FastifyRequest>()).microversion;
    if (!inRange(version ?? MIN_MICROVERSION, range)) throw notFound('The resource could not be found.');
    return true;
  }
}

export const Microversions = (range: VersionRange): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(RANGE_KEY, range), UseGuards(MicroversionRangeGuard));
