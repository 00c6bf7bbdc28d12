/**
 * `/v3` identity management, the part an operator needs to onboard a tenant with the `openstack`
 * client: create a project, create users (listing and showing them), list the roles, and grant, check
 * and revoke a user's role on a project (`openstack role add` / `remove`, `role assignment list`).
 * Admins only, but a user may read itself and the projects it has a role on (`GET /v3/auth/projects`,
 * `GET /v3/users/{id}/projects`, what a dashboard offers to switch to), and anyone the one domain. Thin: bodies are validated here, writes are the
 * IdentityService's, reads come from the IdentityDirectory.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { type ProjectState, type UserState, isBuiltInRole } from '#libs/domain';
import type { EventContext } from '#libs/event-store';

import { Policy } from '../common/auth/auth.guard.js';
import { isAdmin } from '../common/auth/principal.js';
import { projectUnderPolicy, userUnderPolicy } from '../common/auth/owner.js';
import { ApiError, policyForbids } from '../common/http/api-error.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { eventContextOf } from '../common/http/request-state.js';
import { queryText } from '../common/validation/query.js';
import { validateBody } from '../common/validation/validate.js';
import {
  CHANGE_PASSWORD,
  type ChangePasswordBody,
  CREATE_PROJECT,
  CREATE_USER,
  type CreateProjectBody,
  type CreateUserBody,
  UPDATE_PROJECT,
  UPDATE_USER,
  type UpdateProjectBody,
  type UpdateUserBody,
  PROJECT_TAGS_BODY,
  type ProjectTagsBody,
  CREATE_ROLE,
  type CreateRoleBody,
  CREATE_DOMAIN,
  type CreateDomainBody,
  UPDATE_DOMAIN,
  type UpdateDomainBody,
} from './identity-admin.schema.js';
import { IdentityDirectory } from './identity-directory.js';
import { DEFAULT_DOMAIN, roleIdFor } from './identity-ids.js';
import { IdentityService } from './identity.service.js';
import { assignmentView, domainView, projectView, roleView, userView } from './identity.views.js';

const GRANT = 'projects/:projectId/users/:userId/roles/:roleId';

@Controller('v3')
export class IdentityAdminController {
  constructor(
    private readonly identity: IdentityService,
    private readonly directory: IdentityDirectory,
    private readonly publicUrl: PublicUrl,
  ) {}

  @Post('projects')
  @HttpCode(201)
  @Policy('identity:create_project', 'admin')
  async createProject(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { project } = validateBody<CreateProjectBody>(CREATE_PROJECT, body);
    const domainId = project.domain_id ?? DEFAULT_DOMAIN.id;
    // Every project is a top-level one of its domain: its parent, if named, is the domain.
    if (project.parent_id !== undefined && project.parent_id !== null && project.parent_id !== domainId) {
      throw new ApiError(
        400,
        'Projects are top-level projects of their domain: parent_id must be the domain.',
      );
    }
    const created = await this.identity.createProject(
      project.name,
      project.description ?? null,
      this.eventContext(context),
      {
        ...(project.enabled === undefined ? {} : { enabled: project.enabled }),
        ...(project.tags === undefined ? {} : { tags: project.tags }),
        domainId,
      },
    );
    return { project: projectView(created, this.publicUrl.get()) };
  }

  /**
   * Changes a project's description or tags, or disables it (tokens scoped to it stop working at once)
   * or enables it again.
   */
  @Patch('projects/:id')
  @Policy('identity:update_project', 'admin')
  async updateProject(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { project: changes } = validateBody<UpdateProjectBody>(UPDATE_PROJECT, body);
    this.project(id);
    const updated = await this.identity.updateProject(
      id,
      {
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        ...(changes.enabled === undefined ? {} : { enabled: changes.enabled }),
        ...(changes.tags === undefined ? {} : { tags: changes.tags }),
      },
      this.eventContext(context),
    );
    return { project: projectView(updated, this.publicUrl.get()) };
  }

  @Get('projects/:id/tags')
  @Policy('identity:list_project_tags', 'reader')
  listProjectTags(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    projectUnderPolicy(context.principal, id, 'identity:list_project_tags');
    return { tags: [...this.project(id).tags] };
  }

  @Put('projects/:id/tags')
  @Policy('identity:update_project_tags', 'admin')
  async replaceProjectTags(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { tags } = validateBody<ProjectTagsBody>(PROJECT_TAGS_BODY, body);
    this.project(id);
    const updated = await this.identity.updateProject(id, { tags }, this.eventContext(context));
    return { tags: [...updated.tags] };
  }

  @Delete('projects/:id/tags')
  @HttpCode(204)
  @Policy('identity:delete_project_tags', 'admin')
  async clearProjectTags(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    this.project(id);
    await this.identity.updateProject(id, { tags: [] }, this.eventContext(context));
  }

  /** Keystone's check of one tag (HEAD, served from GET): 204 when the project has it. */
  @Get('projects/:id/tags/:tag')
  @HttpCode(204)
  @Policy('identity:get_project_tag', 'reader')
  checkProjectTag(@Ctx() context: CallContext, @Param('id') id: string, @Param('tag') tag: string): void {
    projectUnderPolicy(context.principal, id, 'identity:get_project_tag');
    if (!this.project(id).tags.includes(tag)) throw new ApiError(404, `Could not find project tag: ${tag}.`);
  }

  @Put('projects/:id/tags/:tag')
  @HttpCode(201)
  @Policy('identity:create_project_tag', 'admin')
  async addProjectTag(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('tag') tag: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const project = this.project(id);
    const tags = [...project.tags.filter((held) => held !== tag), tag];
    await this.identity.updateProject(id, { tags }, this.eventContext(context));
    reply.header('Location', `${this.publicUrl.get()}/v3/projects/${id}/tags/${encodeURIComponent(tag)}`);
  }

  @Delete('projects/:id/tags/:tag')
  @HttpCode(204)
  @Policy('identity:delete_project_tag', 'admin')
  async removeProjectTag(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('tag') tag: string,
  ): Promise<void> {
    const project = this.project(id);
    if (!project.tags.includes(tag)) throw new ApiError(404, `Could not find project tag: ${tag}.`);
    const tags = project.tags.filter((held) => held !== tag);
    await this.identity.updateProject(id, { tags }, this.eventContext(context));
  }

  @Delete('projects/:id')
  @HttpCode(204)
  @Policy('identity:delete_project', 'admin')
  async deleteProject(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    this.project(id);
    await this.identity.deleteProject(id, this.eventContext(context));
  }

  /** Keystone's list, filtered by `name` and `domain_id`, by name. */
  @Get('users')
  @Policy('identity:list_users', 'admin')
  listUsers(@Query() query: Record<string, unknown>): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const [name, domainId] = [queryText(query, 'name'), queryText(query, 'domain_id')];
    const users = this.directory
      .allUsers()
      .filter((user) => name === undefined || user.name === name)
      .filter((user) => domainId === undefined || user.domainId === domainId)
      .sort((left, right) => left.name.localeCompare(right.name) || left.id.localeCompare(right.id));
    return {
      users: users.map((user) => userView(user, baseUrl)),
      links: { self: `${baseUrl}/v3/users`, previous: null, next: null },
    };
  }

  /** An admin reads any user, anyone else itself (else 403). */
  @Get('users/:id')
  @Policy('identity:get_user', 'user')
  showUser(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    userUnderPolicy(context.principal, id, 'identity:get_user');
    return { user: userView(this.user(id), this.publicUrl.get()) };
  }

  @Post('users')
  @HttpCode(201)
  @Policy('identity:create_user', 'admin')
  async createUser(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { user } = validateBody<CreateUserBody>(CREATE_USER, body);
    const created = await this.identity.createUser(
      user.name,
      user.password ?? null,
      user.default_project_id ?? null,
      this.eventContext(context),
      user.domain_id ?? DEFAULT_DOMAIN.id,
      {
        ...(user.description === undefined ? {} : { description: user.description }),
        ...(user.email === undefined ? {} : { email: user.email }),
      },
    );
    return { user: userView(created, this.publicUrl.get()) };
  }

  /** Disables a user (its tokens stop working at once), enables it, or resets its password. */
  @Patch('users/:id')
  @Policy('identity:update_user', 'admin')
  async updateUser(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { user } = validateBody<UpdateUserBody>(UPDATE_USER, body);
    let updated = this.user(id);
    const details = {
      ...(user.name === undefined ? {} : { name: user.name }),
      ...(user.default_project_id === undefined ? {} : { defaultProjectId: user.default_project_id }),
      ...(user.description === undefined ? {} : { description: user.description }),
      ...(user.email === undefined ? {} : { email: user.email }),
    };
    if (Object.keys(details).length > 0)
      updated = await this.identity.updateUser(id, details, this.eventContext(context));
    if (user.password !== undefined)
      updated = await this.identity.setPassword(id, user.password, this.eventContext(context));
    if (user.enabled !== undefined)
      updated = await this.identity.setUserEnabled(id, user.enabled, this.eventContext(context));
    return { user: userView(updated, this.publicUrl.get()) };
  }

  /** A user changes its own password (nobody else may, admins included: they reset it with PATCH). */
  @Post('users/:id/password')
  @HttpCode(204)
  @Policy('identity:change_password', 'user')
  async changePassword(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<void> {
    if (context.principal.userId !== id) throw policyForbids('identity:change_password');
    const { user } = validateBody<ChangePasswordBody>(CHANGE_PASSWORD, body);
    await this.identity.changeOwnPassword(
      id,
      user.original_password,
      user.password,
      this.eventContext(context),
    );
  }

  @Delete('users/:id')
  @HttpCode(204)
  @Policy('identity:delete_user', 'admin')
  async deleteUser(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    this.user(id);
    await this.identity.deleteUser(id, this.eventContext(context));
  }

  /** The projects the user holds a role on: the user itself or an admin may ask. */
  @Get('users/:id/projects')
  @Policy('identity:list_user_projects', 'user')
  listUserProjects(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    userUnderPolicy(context.principal, id, 'identity:list_user_projects');
    return this.projectsOf(this.user(id), `/v3/users/${id}/projects`);
  }

  /** The enabled projects the token's user may scope a token to. */
  @Get('auth/projects')
  @Policy('identity:get_auth_projects', 'user')
  authProjects(@Ctx() context: CallContext): Record<string, unknown> {
    return this.projectsOf(this.user(context.principal.userId), '/v3/auth/projects', { enabledOnly: true });
  }

  /** An admin lists every domain; anyone else the domains of its user and its project. Filtered by `name` and `enabled`. */
  @Get('domains')
  @Policy('identity:list_domains', 'reader')
  listDomains(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const [name, enabled] = [queryText(query, 'name'), queryText(query, 'enabled')];
    const domains = this.directory
      .allDomains()
      .filter((domain) => this.mayReadDomain(context, domain.id))
      .filter((domain) => name === undefined || domain.name === name)
      .filter((domain) => enabled === undefined || String(domain.enabled) === enabled.toLowerCase());
    return {
      domains: domains.map((domain) => domainView(domain, baseUrl)),
      links: { self: `${baseUrl}/v3/domains`, previous: null, next: null },
    };
  }

  @Get('domains/:id')
  @Policy('identity:get_domain', 'reader')
  showDomain(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    const domain = this.directory.domain(id);
    if (!domain || !this.mayReadDomain(context, id)) throw new ApiError(404, `Could not find domain: ${id}.`);
    return { domain: domainView(domain, this.publicUrl.get()) };
  }

  @Post('domains')
  @HttpCode(201)
  @Policy('identity:create_domain', 'admin')
  async createDomain(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { domain } = validateBody<CreateDomainBody>(CREATE_DOMAIN, body);
    const created = await this.identity.createDomain(
      domain.name,
      domain.description ?? null,
      domain.enabled ?? true,
      this.eventContext(context),
    );
    return { domain: domainView(created, this.publicUrl.get()) };
  }

  /** Changes a domain's description, or disables it: its users' and projects' tokens end at once. */
  @Patch('domains/:id')
  @Policy('identity:update_domain', 'admin')
  async updateDomain(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { domain: changes } = validateBody<UpdateDomainBody>(UPDATE_DOMAIN, body);
    const domain = this.directory.domain(id);
    if (!domain) throw new ApiError(404, `Could not find domain: ${id}.`);
    if (id === DEFAULT_DOMAIN.id) throw new ApiError(403, 'The default domain cannot be changed.');
    const updated = await this.identity.updateDomain(
      id,
      {
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        ...(changes.enabled === undefined ? {} : { enabled: changes.enabled }),
      },
      this.eventContext(context),
    );
    return { domain: domainView(updated, this.publicUrl.get()) };
  }

  /** Deletes a disabled domain with its projects and users (Keystone's 403 while it is enabled). */
  @Delete('domains/:id')
  @HttpCode(204)
  @Policy('identity:delete_domain', 'admin')
  async deleteDomain(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    if (id === DEFAULT_DOMAIN.id && this.directory.domain(id)) {
      throw new ApiError(403, 'The default domain cannot be deleted.');
    }
    await this.identity.deleteDomain(id, this.eventContext(context));
  }

  @Get('roles')
  @Policy('identity:list_roles', 'admin')
  listRoles(@Query() query: Record<string, unknown>): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const name = queryText(query, 'name');
    return {
      roles: this.directory
        .allRoles()
        .filter((role) => name === undefined || role.name === name)
        .map((role) => roleView(role, baseUrl)),
      links: { self: `${baseUrl}/v3/roles`, previous: null, next: null },
    };
  }

  @Get('roles/:id')
  @Policy('identity:get_role', 'admin')
  showRole(@Param('id') id: string): Record<string, unknown> {
    return { role: roleView(this.roleDetail(id), this.publicUrl.get()) };
  }

  /** A role of the admin's making: tokens carry it, policy gives it nothing. */
  @Post('roles')
  @HttpCode(201)
  @Policy('identity:create_role', 'admin')
  async createRole(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { role } = validateBody<CreateRoleBody>(CREATE_ROLE, body);
    const created = await this.identity.createRole(
      role.name,
      role.description ?? null,
      this.eventContext(context),
    );
    return { role: roleView(created, this.publicUrl.get()) };
  }

  /** Deletes a role an admin made, taking it from every holder; the built-in ones stay (403). */
  @Delete('roles/:id')
  @HttpCode(204)
  @Policy('identity:delete_role', 'admin')
  async deleteRole(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    const role = this.roleDetail(id);
    if (isBuiltInRole(role.name)) {
      throw new ApiError(
        403,
        `The role ${role.name} is built in: policy depends on it, so it cannot be deleted.`,
      );
    }
    await this.identity.deleteRole(id, this.eventContext(context));
  }

  @Put(GRANT)
  @HttpCode(204)
  @Policy('identity:create_grant', 'admin')
  async grant(@Ctx() context: CallContext, @Param() params: Record<string, string>): Promise<void> {
    const { user, project, role } = this.grantOf(params);
    await this.identity.assignRole(user.id, project.id, role, this.eventContext(context));
  }

  /** Keystone's check (HEAD, served from GET): 204 when the user holds the role on the project. */
  @Get(GRANT)
  @HttpCode(204)
  @Policy('identity:check_grant', 'admin')
  check(@Param() params: Record<string, string>): void {
    this.heldGrantOf(params);
  }

  @Delete(GRANT)
  @HttpCode(204)
  @Policy('identity:revoke_grant', 'admin')
  async revoke(@Ctx() context: CallContext, @Param() params: Record<string, string>): Promise<void> {
    const { user, project, role } = this.heldGrantOf(params);
    await this.identity.unassignRole(user.id, project.id, role, this.eventContext(context));
  }

  /**
   * The assignments of roles to users on projects, filtered by `user.id`, `scope.project.id` and
   * `role.id`; `effective` adds the roles those imply (admin: member and reader; member: reader), as a
   * token carries them, and `include_names` adds the names. (No groups, so no other expansion.)
   */
  @Get('role_assignments')
  @Policy('identity:list_role_assignments', 'admin')
  listAssignments(@Query() query: Record<string, unknown>): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const userId = queryText(query, 'user.id');
    const projectId = queryText(query, 'scope.project.id');
    const roleId = queryText(query, 'role.id');
    const flag = (name: string): boolean => query[name] !== undefined && queryText(query, name) !== 'false';
    const includeNames = flag('include_names');
    const effective = flag('effective');
    const assignments = this.directory
      .allUsers()
      .filter((user) => userId === undefined || user.id === userId)
      .flatMap((user) =>
        Object.entries(user.roles).flatMap(([id, assigned]) => {
          const project = this.directory.project(id);
          if (!project || (projectId !== undefined && project.id !== projectId)) return [];
          const roles = effective
            ? this.directory.effectiveRoles(user, project.id)
            : assigned.filter((role) => this.directory.roleExists(role));
          return roles
            .filter((role) => roleId === undefined || roleIdFor(role) === roleId)
            .map((role) => ({ user, project, role }));
        }),
      );
    return {
      role_assignments: assignments.map((assignment) =>
        assignmentView(assignment, baseUrl, includeNames, this.directory.domainNames),
      ),
      links: { self: `${baseUrl}/v3/role_assignments`, previous: null, next: null },
    };
  }

  private projectsOf(
    user: UserState,
    path: string,
    options: { enabledOnly?: boolean } = {},
  ): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const projects = Object.entries(user.roles)
      .filter(([, roles]) => roles.some((role) => this.directory.roleExists(role)))
      .flatMap(([id]) => this.directory.project(id) ?? [])
      .filter((project) => project.enabled || options.enabledOnly !== true)
      .sort((left, right) => left.name.localeCompare(right.name) || left.id.localeCompare(right.id));
    return {
      projects: projects.map((project) => projectView(project, baseUrl)),
      links: { self: `${baseUrl}${path}`, previous: null, next: null },
    };
  }

  private eventContext(context: CallContext): EventContext {
    return eventContextOf(context.principal, context.requestId);
  }

  private project(id: string): ProjectState {
    const project = this.directory.project(id);
    if (!project) throw new ApiError(404, `Could not find project: ${id}.`);
    return project;
  }

  private user(id: string): UserState {
    const user = this.directory.user(id);
    if (!user) throw new ApiError(404, `Could not find user: ${id}.`);
    return user;
  }

  private mayReadDomain(context: CallContext, domainId: string): boolean {
    const { principal } = context;
    if (isAdmin(principal)) return true;
    const project = principal.scoped ? this.directory.project(principal.projectId) : undefined;
    return domainId === principal.domainId || domainId === project?.domainId;
  }

  /** The role of that id, built in or made by an admin (Keystone's 404 otherwise). */
  private roleDetail(id: string): { readonly name: string; readonly description: string | null } {
    const role = this.directory.allRoles().find((candidate) => roleIdFor(candidate.name) === id);
    if (role === undefined) throw new ApiError(404, `Could not find role: ${id}.`);
    return role;
  }

  private grantOf(params: Record<string, string>): {
    user: UserState;
    project: ProjectState;
    role: string;
  } {
    const project = this.project(params['projectId'] ?? '');
    const role = this.roleDetail(params['roleId'] ?? '').name;
    return { user: this.user(params['userId'] ?? ''), project, role };
  }

  /** The grant the path names, which the user must hold (Keystone's 404 otherwise). */
  private heldGrantOf(params: Record<string, string>): ReturnType<IdentityAdminController['grantOf']> {
    const grant = this.grantOf(params);
    const { user, project, role } = grant;
    if (!(user.roles[project.id] ?? []).includes(role)) {
      throw new ApiError(
        404,
        `Could not find role assignment with role: ${roleIdFor(role)}, user or group: ${user.id}, project, domain, or system: ${project.id}.`,
      );
    }
    return grant;
  }
}
