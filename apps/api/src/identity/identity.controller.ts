/**
 * `/v3`: Keystone version discovery and the token API (issue, validate, check, revoke). Thin: the body is
 * validated here and everything else is the IdentityService's.
 */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import type { ApiConfig } from '../config/api.config.js';
import { Policy, Public } from '../common/auth/auth.guard.js';
import { ApiError } from '../common/http/api-error.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { validateBody } from '../common/validation/validate.js';
import { AUTH_REQUEST, type AuthRequest } from './auth-request.schema.js';
import { serviceCatalog } from './catalog.js';
import { IdentityService } from './identity.service.js';
import { identityVersion, tokenView } from './identity.views.js';

const subjectOf = (header: string | undefined): string => {
  if (!header) throw new ApiError(400, 'The X-Subject-Token header is required.');
  return header;
};

@Controller('v3')
export class IdentityController {
  constructor(
    private readonly identity: IdentityService,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get()
  @Public()
  version(): Record<string, unknown> {
    return { version: identityVersion(this.publicUrl.get()) };
  }

  @Post('auth/tokens')
  @Public()
  @HttpCode(201)
  async issue(
    @Body() body: unknown,
    @Query('nocatalog') nocatalog: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<AuthRequest>(AUTH_REQUEST, body);
    const { token, principal } = await this.identity.authenticate(request);
    reply.header('X-Subject-Token', token);
    return tokenView(principal, nocatalog === undefined ? this.catalog() : null);
  }

  /** Also answers HEAD (Fastify serves HEAD from the GET route without the body), Keystone's check. */
  @Get('auth/tokens')
  @Policy('identity:validate_token', 'reader', { allowService: true })
  validate(
    @Ctx() context: CallContext,
    @Headers('x-subject-token') subject: string | undefined,
    @Query('nocatalog') nocatalog: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Record<string, unknown> {
    const token = subjectOf(subject);
    const principal = this.identity.validateSubject(token);
    this.identity.checkMayValidate(context.principal, principal);
    reply.header('X-Subject-Token', token);
    return tokenView(principal, nocatalog === undefined ? this.catalog() : null);
  }

  @Delete('auth/tokens')
  @HttpCode(204)
  @Policy('identity:revoke_token', 'reader', { allowService: true })
  async revoke(
    @Ctx() context: CallContext,
    @Headers('x-subject-token') subject: string | undefined,
  ): Promise<void> {
    const principal = this.identity.validateSubject(subjectOf(subject));
    await this.identity.revoke(context.principal, principal, context.requestId);
  }

  private catalog() {
    return serviceCatalog(this.publicUrl.get(), this.config.imagePrefix, this.config.region);
  }
}
