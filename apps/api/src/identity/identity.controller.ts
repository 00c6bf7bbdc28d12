/**
 * `/v3`: Keystone version discovery, the token API (issue, validate, check, revoke) and reading
 * projects, which clients look up by name or id before project-scoped calls (`openstack quota set
 * <project>`). Thin: the body is validated here and everything else is the IdentityService's.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import type { ApiConfig } from '../config/api.config.js';
import { Policy, Public } from '../common/auth/auth.guard.js';
import { projectUnderPolicy } from '../common/auth/owner.js';
import { ApiError } from '../common/http/api-error.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { queryText } from '../common/validation/query.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { validateBody } from '../common/validation/validate.js';
import { AUTH_REQUEST, type AuthRequest } from './auth-request.schema.js';
import { serviceCatalog } from './catalog.js';
import { IdentityDirectory } from './identity-directory.js';
import { IdentityService } from './identity.service.js';
import { identityVersion, projectView, tokenView } from './identity.views.js';

const subjectOf = (header: string | undefined): string => {
  if (!header) throw new ApiError(400, 'The X-Subject-Token header is required.');
  return header;
};

@Controller('v3')
export class IdentityController {
  constructor(
    private readonly identity: IdentityService,
    private readonly directory: IdentityDirectory,
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
    return tokenView(principal, nocatalog === undefined ? this.catalog() : null, this.directory.domainNames);
  }

  /** Also answers HEAD (Fastify serves HEAD from the GET route without the body), Keystone's check. */
  @Get('auth/tokens')
  @Policy('identity:validate_token', 'user')
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
    return tokenView(principal, nocatalog === undefined ? this.catalog() : null, this.directory.domainNames);
  }

  @Delete('auth/tokens')
  @HttpCode(204)
  @Policy('identity:revoke_token', 'user')
  async revoke(
    @Ctx() context: CallContext,
    @Headers('x-subject-token') subject: string | undefined,
  ): Promise<void> {
    const principal = this.identity.validateSubject(subjectOf(subject));
    await this.identity.revoke(context.principal, principal, context.requestId);
  }

  /** The service catalog of the caller's token (a project-scoped one). */
  @Get('auth/catalog')
  @Policy('identity:get_auth_catalog', 'reader')
  authCatalog(): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    return {
      catalog: this.catalog(),
      links: { self: `${baseUrl}/v3/auth/catalog`, previous: null, next: null },
    };
  }

  /**
   * Keystone's list, admins only; filtered by `name`, `domain_id`, `enabled`, `parent_id` (every
   * project is a top-level one of its domain), `is_domain` (none is) and the tag filters (`tags` and
   * `tags-any`: all, or any, of a comma-separated list; `not-tags` and `not-tags-any`: their negations);
   * other filters are ignored.
   */
  @Get('projects')
  @Policy('identity:list_projects', 'admin')
  listProjects(@Query() query: Record<string, unknown>): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const [name, domainId] = [queryText(query, 'name'), queryText(query, 'domain_id')];
    const [enabled, parentId, isDomain] = ['enabled', 'parent_id', 'is_domain'].map((key) =>
      queryText(query, key),
    );
    const truthy = (value: string): boolean => !['false', '0', 'no', 'off'].includes(value.toLowerCase());
    const tagList = (key: string): string[] | undefined => queryText(query, key)?.split(',');
    const [allOf, anyOf, notAll, notAny] = ['tags', 'tags-any', 'not-tags', 'not-tags-any'].map(tagList);
    const hasAll = (tags: readonly string[], wanted: string[]): boolean =>
      wanted.every((tag) => tags.includes(tag));
    const hasAny = (tags: readonly string[], wanted: string[]): boolean =>
      wanted.some((tag) => tags.includes(tag));
    const projects = this.directory
      .allProjects()
      .filter((project) => name === undefined || project.name === name)
      .filter((project) => domainId === undefined || project.domainId === domainId)
      .filter((project) => enabled === undefined || project.enabled === truthy(enabled))
      .filter((project) => parentId === undefined || project.domainId === parentId)
      .filter(() => isDomain === undefined || !truthy(isDomain))
      .filter(({ tags }) => allOf === undefined || hasAll(tags, allOf))
      .filter(({ tags }) => anyOf === undefined || hasAny(tags, anyOf))
      .filter(({ tags }) => notAll === undefined || !hasAll(tags, notAll))
      .filter(({ tags }) => notAny === undefined || !hasAny(tags, notAny))
      .sort((left, right) => left.name.localeCompare(right.name) || left.id.localeCompare(right.id));
    return {
      projects: projects.map((project) => projectView(project, baseUrl)),
      links: { self: `${baseUrl}/v3/projects`, previous: null, next: null },
    };
  }

  /** An admin reads any project, anyone else the project their token is scoped to (else 403). */
  @Get('projects/:id')
  @Policy('identity:get_project', 'reader')
  showProject(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    projectUnderPolicy(context.principal, id, 'identity:get_project');
    const project = this.directory.project(id);
    if (!project) throw new ApiError(404, `Could not find project: ${id}.`);
    return { project: projectView(project, this.publicUrl.get()) };
  }

  private catalog() {
    return serviceCatalog(
      this.publicUrl.get(),
      { image: this.config.imagePrefix, network: this.config.networkPrefix },
      this.config.region,
    );
  }
}
