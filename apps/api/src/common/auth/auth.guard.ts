/**
 * Authentication and policy for every route, in one guard: a route is public (`@Public()`), or it needs a
 * valid `X-Auth-Token` (401 otherwise, in Keystone's body, as keystonemiddleware answers) and passes the
 * policy its handler declares with `@Policy(rule, level)` (403 with Nova's "Policy doesn't allow ..." message).
 * Object-level checks (is this server in your project?) belong to the services, which answer 404 for
 * what the caller may not see, as Nova hides other projects' servers.
 */
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { policyForbids, unauthorized } from '../http/api-error.js';
import type { Principal } from './principal.js';

/** Validates a token and says whom it proves; the identity module provides it. */
export interface TokenValidator {
  validate(token: string): Principal;
  /**
   * A signal that aborts as soon as the principal's token stops validating before its expiry (revoked;
   * its user, project or roles changed), for responses that outlive the request; `release` when done.
   */
  watch(principal: Principal): TokenWatch;
}

export interface TokenWatch {
  readonly signal: AbortSignal;
  release(): void;
}
export const TOKEN_VALIDATOR = Symbol('TokenValidator');

/**
 * Who may call a route, by the roles Nimbus knows: any valid token, unscoped ones included (`user`: the
 * handler checks whose things they are), any role on the project (`reader`), `member` (which `admin`
 * implies), or `admin` only. `service` lets service users (the compute agent) in as well.
 */
export type PolicyLevel = 'user' | 'reader' | 'member' | 'admin';

export interface PolicyRule {
  /** Nova's (or Glance's, Keystone's) policy name, quoted in the 403 message. */
  readonly rule: string;
  readonly level: PolicyLevel;
  readonly allowService?: boolean;
}

const PUBLIC_KEY = 'nimbus:public';
const POLICY_KEY = 'nimbus:policy';

export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);

export const Policy = (
  rule: string,
  level: PolicyLevel,
  options: { allowService?: boolean } = {},
): MethodDecorator =>
  applyDecorators(SetMetadata(POLICY_KEY, { rule, level, ...options } satisfies PolicyRule));

/** Whether the principal's roles satisfy the level. */
export function allows(principal: Principal, policy: PolicyRule): boolean {
  const roles = principal.roles;
  if (policy.allowService && roles.includes('service')) return true;
  switch (policy.level) {
    case 'user':
      return true;
    case 'admin':
      return roles.includes('admin');
    case 'member':
      return roles.includes('member') || roles.includes('admin');
    case 'reader':
      return roles.includes('reader') || roles.includes('member') || roles.includes('admin');
  }
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VALIDATOR) private readonly tokens: TokenValidator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['x-auth-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) throw unauthorized();
    const principal = this.tokens.validate(token);
    if (request.nimbus) request.nimbus.principal = principal;
    const policy = this.reflector.get<PolicyRule | undefined>(POLICY_KEY, context.getHandler());
    if (!policy)
      throw new Error(`route ${request.method} ${request.url} declares neither @Public nor @Policy`);
    if (!allows(principal, policy)) throw policyForbids(policy.rule);
    return true;
  }
}
