/**
 * The Keystone token subset: password or token authentication scoped to a project, token validation (for
 * every API call and for `GET /v3/auth/tokens`), revocation, and the identity writes bootstrap and
 * operators need (projects, users, role assignments). Tokens are signed claims; users, projects, roles and
 * revocations are events.
 * Must never log, store or echo a password or token; failed authentication says only Keystone's 401.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { KEYSTONE_ROLES, type KeystoneRole, streamFor } from '#libs/contracts';
import {
  type ApplicationCredential,
  applicationCredentialOf,
  decideAssignRole,
  decideCreateApplicationCredential,
  decideDeleteApplicationCredential,
  decideChangePassword,
  decideCreateProject,
  decideCreateUser,
  decideUpdateUser,
  type UserChanges,
  decideDeleteProject,
  decideDeleteUser,
  decideSetProjectEnabled,
  decideUpdateProject,
  type ProjectChanges,
  decideSetUserEnabled,
  decideUnassignRole,
  decideEnsureProject,
  decideRevokeToken,
  decideCreateRole,
  decideCreateIdentityDomain,
  decideDeleteIdentityDomain,
  decideUpdateIdentityDomain,
  identityDomainReducer,
  IdentityDomainNotFound,
  type IdentityDomainState,
  decideDeleteRole,
  isBuiltInRole,
  projectReducer,
  roleReducer,
  RoleNotFound,
  type RoleState,
  tokenRevocationReducer,
  userReducer,
  type ProjectFields,
  type ProjectState,
  type UserState,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import type { ApiConfig } from '../config/api.config.js';
import {
  ApiError,
  badRequest,
  forbidden,
  notFound,
  policyForbids,
  unauthorized,
} from '../common/http/api-error.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Principal } from '../common/auth/principal.js';
import type { TokenValidator, TokenWatch } from '../common/auth/auth.guard.js';
import { API_CONFIG, CLOCK, type Clock } from '../common/store/tokens.js';
import { ReadModelHub } from '../common/store/read-model-hub.js';
import type { AuthRequest } from './auth-request.schema.js';
import type { CreateApplicationCredentialBody } from './identity-admin.schema.js';
import { IdentityDirectory } from './identity-directory.js';
import { DEFAULT_DOMAIN, domainIdFor, projectIdFor, roleIdFor, userIdFor } from './identity-ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { TokenSigner, type TokenClaims } from './token-signer.js';

export const TOKEN_SIGNER = Symbol('TokenSigner');

export interface IssuedToken {
  readonly token: string;
  readonly principal: Principal;
}

@Injectable()
export class IdentityService implements TokenValidator {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_SIGNER) private readonly signer: TokenSigner,
    private readonly directory: IdentityDirectory,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  async authenticate(request: AuthRequest): Promise<IssuedToken> {
    const { identity, scope } = request.auth;
    const proof = await this.prove(identity);
    const scoped = scope === 'unscoped' ? undefined : scope;
    // Nobody holds a role on a domain or the system here: Keystone's 401 for such a scope.
    if (scoped?.domain !== undefined || scoped?.system !== undefined) throw unauthorized();
    let project: ProjectState | null;
    if (proof.credential) {
      // An application credential carries its own scope; asking for another is Keystone's 401.
      if (scope !== undefined) throw unauthorized();
      const found = this.directory.project(proof.credential.projectId);
      if (!found) throw unauthorized();
      project = found;
    } else if (scope === 'unscoped') {
      project = null;
    } else {
      project = this.scopeOf(proof.user, scoped?.project);
    }
    const issuedAt = Math.floor(this.clock().getTime() / 1000);
    const claims: TokenClaims = {
      u: proof.user.id,
      p: project?.id ?? null,
      a: TokenSigner.newAuditId(),
      i: issuedAt,
      e: Math.min(proof.expiresAt ?? Infinity, issuedAt + this.config.tokenTtlSeconds),
      m: proof.methods,
      ...(proof.credential ? { c: proof.credential.id } : {}),
    };
    // principalOf refuses a token that would stand for nothing (no role, a credential's role gone).
    return { token: this.signer.sign(claims), principal: this.principalOf(claims) };
  }

  /** Who the identity section proves to be, by which method, and until when at most (seconds). */
  private async prove(identity: AuthRequest['auth']['identity']): Promise<{
    user: UserState;
    methods: string[];
    expiresAt: number | null;
    credential?: ApplicationCredential;
  }> {
    if (identity.methods.includes('application_credential')) {
      if (!identity.application_credential) throw missingIn('application_credential');
      const { user, credential } = await this.checkApplicationCredential(identity.application_credential);
      const expiresAt =
        credential.expiresAt === null ? null : Math.floor(Date.parse(credential.expiresAt) / 1000);
      return { user, methods: ['application_credential'], expiresAt, credential };
    }
    if (identity.methods.includes('password')) {
      if (!identity.password) throw missingIn('password');
      return {
        user: await this.checkPassword(identity.password.user),
        methods: ['password'],
        expiresAt: null,
      };
    }
    if (!identity.token) throw missingIn('token');
    const proven = this.validate(identity.token.id);
    // A token obtained with an application credential keeps that credential's scope: it is not rescoped.
    if (proven.applicationCredential) throw unauthorized();
    const user = this.directory.user(proven.userId);
    if (!user) throw unauthorized();
    // A token obtained with a token never outlives the first one, as in Keystone.
    return { user, methods: ['token'], expiresAt: Date.parse(proven.expiresAt) / 1000 };
  }

  /** The principal a token proves, for any API call; Keystone's 401 for anything else. */
  validate(token: string): Principal {
    const principal = this.tryValidate(token);
    if (!principal) throw unauthorized();
    return principal;
  }

  /**
   * Aborts its signal at the first identity change after which the principal's token would no longer
   * prove the same principal: revoked, its user or project gone, its roles on the project changed.
   * Checked on every such change, so a feed or watch ends at once rather than at the token's expiry.
   */
  watch(principal: Principal): TokenWatch {
    const controller = new AbortController();
    const check = (): void => {
      if (!this.stillProves(principal)) {
        stop();
        controller.abort(unauthorized());
      }
    };
    const stop = this.directory.onChange(check);
    check();
    return { signal: controller.signal, release: stop };
  }

  /** `GET /v3/auth/tokens`: a subject token that does not validate is Keystone's 404. */
  validateSubject(token: string): Principal {
    const principal = this.tryValidate(token);
    if (!principal) throw new ApiError(404, 'Could not find token.');
    return principal;
  }

  /** Revokes the subject token; its owner, an admin or a service may (Keystone's identity:revoke_token). */
  async revoke(caller: Principal, subject: Principal, requestId: string): Promise<void> {
    mayActOnToken(caller, subject, 'identity:revoke_token');
    const token = { auditId: subject.auditId, userId: subject.userId, expiresAt: subject.expiresAt };
    const { appended } = await this.store.execute(
      streamFor('token', subject.auditId),
      tokenRevocationReducer,
      (state) => decideRevokeToken(state, token),
      eventContextOf(caller, requestId),
    );
    this.directory.noteRevoked(subject.auditId, subject.expiresAt);
    await this.hub.waitFor(appended?.position);
  }

  /** `GET /v3/auth/tokens` may be asked by the token's owner, an admin or a service. */
  checkMayValidate(caller: Principal, subject: Principal): void {
    mayActOnToken(caller, subject, 'identity:validate_token');
  }

  // -------------------------------------------------------------------------------------------------------
  // Writes for bootstrap, operators and tests.
  // -------------------------------------------------------------------------------------------------------

  async ensureProject(name: string, description: string | null, context: EventContext): Promise<string> {
    return this.decideOnProject(name, description, decideEnsureProject, context);
  }

  /** Creates the user, or sets its password when the given one no longer matches. */
  async ensureUser(
    name: string,
    password: string,
    defaultProjectId: string | null,
    context: EventContext,
  ): Promise<string> {
    const userId = this.userIdForName(DEFAULT_DOMAIN.id, name);
    const stream = streamFor('user', userId);
    const current = await this.store.fold(stream, userReducer);
    let outcome;
    if (!current.state.exists) {
      const passwordHash = await hashPassword(password);
      outcome = await this.store.execute(
        stream,
        userReducer,
        (state) =>
          decideCreateUser(state, {
            userId,
            name,
            domainId: DEFAULT_DOMAIN.id,
            passwordHash,
            defaultProjectId,
          }),
        context,
      );
    } else if (!(await verifyPassword(password, current.state.passwordHash))) {
      const passwordHash = await hashPassword(password);
      outcome = await this.store.execute(
        stream,
        userReducer,
        (state) => decideChangePassword(state, userId, passwordHash),
        context,
      );
    }
    await this.hub.waitFor(outcome?.appended?.position);
    return userId;
  }

  /** Grants a role on a project (nothing to do when it is held). */
  async assignRole(userId: string, projectId: string, role: string, context: EventContext): Promise<void> {
    await this.decideOnUser(userId, (state) => decideAssignRole(state, userId, projectId, role), context);
  }

  project(projectId: string): ProjectState | undefined {
    return this.directory.project(projectId);
  }

  // -------------------------------------------------------------------------------------------------------
  // Identity management: `POST /v3/projects`, `POST /v3/users`, role grants and revocations.
  // -------------------------------------------------------------------------------------------------------

  /** A new project in the default domain; its name taken is Keystone's 409. */
  async createProject(
    name: string,
    description: string | null,
    context: EventContext,
    options: {
      readonly enabled?: boolean;
      readonly tags?: readonly string[];
      readonly domainId?: string;
    } = {},
  ): Promise<ProjectState> {
    const { domainId = DEFAULT_DOMAIN.id, ...rest } = options;
    const projectId = await this.decideOnProject(
      name,
      description,
      (state, fields) => decideCreateProject(state, fields, rest),
      context,
      this.existingDomain(domainId),
    );
    return this.found(this.directory.project(projectId));
  }

  /** Changes a project's description, enabled flag or tags in one step; what changes nothing appends nothing. */
  async updateProject(
    projectId: string,
    changes: ProjectChanges & { readonly enabled?: boolean },
    context: EventContext,
  ): Promise<ProjectState> {
    const { enabled, ...rest } = changes;
    const current = this.directory.project(projectId);
    if (current && rest.name !== undefined) this.nameFreeForProject(current, rest.name);
    await this.decideOnProjectId(
      projectId,
      (state) => [
        ...decideUpdateProject(state, projectId, rest),
        ...(enabled === undefined ? [] : decideSetProjectEnabled(state, projectId, enabled)),
      ],
      context,
    );
    return this.found(this.directory.project(projectId));
  }

  /** Keystone resolves a domain reference by id or by (case-insensitive) name; absent means Default. */
  private domainIdOf(domain: { readonly id?: string; readonly name?: string } | undefined): string | null {
    if (domain?.id !== undefined) return this.directory.domain(domain.id)?.id ?? null;
    if (domain?.name !== undefined) return this.directory.domainByName(domain.name)?.id ?? null;
    return DEFAULT_DOMAIN.id;
  }

  /**
   * The stream a project of that name lives in: the project's that has the name now; else the id
   * derived from the name, unless a project renamed since holds it, in which case a random one.
   */
  private projectIdForName(domainId: string, name: string): string {
    return (
      this.directory.projectByName(domainId, name)?.id ??
      idForNewName(projectIdFor(domainId, name), (id) => this.directory.project(id) !== undefined)
    );
  }

  private userIdForName(domainId: string, name: string): string {
    return (
      this.directory.userByName(domainId, name)?.id ??
      idForNewName(userIdFor(domainId, name), (id) => this.directory.user(id) !== undefined)
    );
  }

  /** Keystone's 409 when another project of the domain has the name. */
  private nameFreeForProject(project: ProjectState, name: string): void {
    const holder = this.directory.projectByName(project.domainId, name);
    if (holder && holder.id !== project.id) {
      throw new ApiError(
        409,
        `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${name}.`,
      );
    }
  }

  /** The domain a new project or user goes in: it must exist (Keystone's 400 otherwise). */
  private existingDomain(domainId: string): string {
    if (!this.directory.domain(domainId)) throw new ApiError(400, `Could not find domain: ${domainId}.`);
    return domainId;
  }

  /** Appends what `decide` makes of the named project's stream; waits until the directory has it. */
  private async decideOnProject(
    name: string,
    description: string | null,
    decide: (state: ProjectState, fields: ProjectFields) => object[],
    context: EventContext,
    domainId: string = DEFAULT_DOMAIN.id,
  ): Promise<string> {
    const projectId = this.projectIdForName(domainId, name);
    const { appended } = await this.store.execute(
      streamFor('project', projectId),
      projectReducer,
      (state: ProjectState) => decide(state, { projectId, name, domainId, description }),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return projectId;
  }

  /**
   * A new user in a domain (Default unless named); its name taken there is Keystone's 409. A user
   * created without a password gets one nobody knows: it cannot authenticate until an admin sets one.
   */
  async createUser(
    name: string,
    password: string | null,
    defaultProjectId: string | null,
    context: EventContext,
    domainId: string = DEFAULT_DOMAIN.id,
    details: Pick<UserChanges, 'description' | 'email'> = {},
  ): Promise<UserState> {
    if (defaultProjectId !== null && !this.directory.project(defaultProjectId))
      throw new ApiError(400, `Could not find project: ${defaultProjectId}.`);
    this.existingDomain(domainId);
    const userId = this.userIdForName(domainId, name);
    const fields = { userId, name, domainId, defaultProjectId };
    const passwordHash = await hashPassword(password ?? randomBytes(32).toString('base64'));
    await this.decideOnUser(
      userId,
      (state) => decideCreateUser(state, { ...fields, passwordHash }, details),
      context,
    );
    return this.found(this.directory.user(userId));
  }

  /** Changes a user's default project, description or email (a default project must exist). */
  async updateUser(userId: string, changes: UserChanges, context: EventContext): Promise<UserState> {
    const project = changes.defaultProjectId;
    if (project !== undefined && project !== null && !this.directory.project(project))
      throw new ApiError(400, `Could not find project: ${project}.`);
    const current = this.directory.user(userId);
    const holder =
      current && changes.name !== undefined
        ? this.directory.userByName(current.domainId, changes.name)
        : undefined;
    if (holder && holder.id !== userId) {
      throw new ApiError(
        409,
        `Conflict occurred attempting to store user - Duplicate entry found with name ${changes.name} at domain ID ${holder.domainId}.`,
      );
    }
    await this.decideOnUser(userId, (state) => decideUpdateUser(state, userId, changes), context);
    return this.found(this.directory.user(userId));
  }

  /** Deletes a project; tokens scoped to it stop working at once. */
  async deleteProject(projectId: string, context: EventContext): Promise<void> {
    await this.decideOnProjectId(projectId, (state) => decideDeleteProject(state, projectId), context);
  }

  /** Disables (its tokens stop working at once) or enables a user. */
  async setUserEnabled(userId: string, enabled: boolean, context: EventContext): Promise<UserState> {
    await this.decideOnUser(userId, (state) => decideSetUserEnabled(state, userId, enabled), context);
    return this.found(this.directory.user(userId));
  }

  /** A user changes its own password, proving the current one (Keystone's 401 if it does not match). */
  async changeOwnPassword(
    userId: string,
    original: string,
    password: string,
    context: EventContext,
  ): Promise<void> {
    const user = this.directory.user(userId);
    if (!user || !(await verifyPassword(original, user.passwordHash))) throw unauthorized();
    await this.setPassword(userId, password, context);
  }

  /** Sets a user's password (an admin's reset). */
  async setPassword(userId: string, password: string, context: EventContext): Promise<UserState> {
    const passwordHash = await hashPassword(password);
    await this.decideOnUser(userId, (state) => decideChangePassword(state, userId, passwordHash), context);
    return this.found(this.directory.user(userId));
  }

  /** Deletes a user and its role assignments; its tokens stop working at once. */
  async deleteUser(userId: string, context: EventContext): Promise<void> {
    await this.decideOnUser(userId, (state) => decideDeleteUser(state, userId), context);
  }

  /** Revokes a role on a project; tokens that carried it stop working at once. */
  async unassignRole(userId: string, projectId: string, role: string, context: EventContext): Promise<void> {
    await this.decideOnUser(userId, (state) => decideUnassignRole(state, userId, projectId, role), context);
  }

  /** A domain of the admin's making; its id is derived from its name. */
  async createDomain(
    name: string,
    description: string | null,
    enabled: boolean,
    context: EventContext,
  ): Promise<IdentityDomainState> {
    const domainId = idForNewName(domainIdFor(name), (id) => this.directory.domain(id) !== undefined);
    if (this.directory.domainByName(name)) {
      throw new ApiError(
        409,
        `Conflict occurred attempting to store domain - Duplicate entry found with name ${name}.`,
      );
    }
    await this.decideOnDomain(
      domainId,
      (state) => decideCreateIdentityDomain(state, { domainId, name, description, enabled }),
      context,
    );
    return this.found(this.directory.domain(domainId));
  }

  /** Renames a domain, changes its description, or disables it (its users' and projects' tokens end at once). */
  async updateDomain(
    domainId: string,
    changes: { readonly name?: string; readonly description?: string | null; readonly enabled?: boolean },
    context: EventContext,
  ): Promise<IdentityDomainState> {
    const holder = changes.name === undefined ? undefined : this.directory.domainByName(changes.name);
    if (holder && holder.id !== domainId) {
      throw new ApiError(
        409,
        `Conflict occurred attempting to store domain - Duplicate entry found with name ${changes.name}.`,
      );
    }
    await this.decideOnDomain(
      domainId,
      (state) => decideUpdateIdentityDomain(state, domainId, changes),
      context,
    );
    return this.found(this.directory.domain(domainId));
  }

  /**
   * Deletes a disabled domain, as Keystone does: its projects and users go first (each one's tokens
   * with it), then the domain.
   */
  async deleteDomain(domainId: string, context: EventContext): Promise<void> {
    const domain = this.directory.domain(domainId);
    if (!domain || domainId === DEFAULT_DOMAIN.id) throw new IdentityDomainNotFound(domainId);
    // Refused before anything goes, if it is enabled.
    decideDeleteIdentityDomain(domain, domainId);
    for (const user of this.directory.allUsers().filter((candidate) => candidate.domainId === domainId))
      await this.decideOnUser(user.id, (state) => decideDeleteUser(state, user.id), context);
    for (const project of this.directory.allProjects().filter((candidate) => candidate.domainId === domainId))
      await this.deleteProject(project.id, context);
    await this.decideOnDomain(domainId, (state) => decideDeleteIdentityDomain(state, domainId), context);
  }

  private async decideOnDomain(
    domainId: string,
    decide: (state: IdentityDomainState) => object[],
    context: EventContext,
  ): Promise<void> {
    const { appended } = await this.store.execute(
      streamFor('domain', domainId),
      identityDomainReducer,
      decide,
      context,
    );
    await this.hub.waitFor(appended?.position);
  }

  /** A role of the admin's making; its id is derived from its name. */
  async createRole(name: string, description: string | null, context: EventContext): Promise<RoleState> {
    const roleId = roleIdFor(name);
    const { appended } = await this.store.execute(
      streamFor('role', roleId),
      roleReducer,
      (state) => decideCreateRole(state, { roleId, name, description }),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return this.found(this.directory.customRole(roleId));
  }

  /**
   * Deletes a role of the admin's making: every user who holds it loses it first (their tokens that
   * carried it stop working at once), then the role goes, so a role made again by that name starts
   * with no holder. Tokens never carry a role that no longer exists, even before the last revocation.
   */
  async deleteRole(roleId: string, context: EventContext): Promise<void> {
    const role = this.directory.customRole(roleId);
    if (!role) throw new RoleNotFound(roleId);
    for (const user of this.directory.allUsers()) {
      for (const [projectId, held] of Object.entries(user.roles)) {
        if (held.includes(role.name)) await this.unassignRole(user.id, projectId, role.name, context);
      }
    }
    const { appended } = await this.store.execute(
      streamFor('role', roleId),
      roleReducer,
      (state) => decideDeleteRole(state, roleId),
      context,
    );
    await this.hub.waitFor(appended?.position);
  }

  /** Appends what `decide` makes of the project's stream, and waits until the directory has folded it. */
  private async decideOnProjectId(
    projectId: string,
    decide: (state: ProjectState) => object[],
    context: EventContext,
  ): Promise<void> {
    const { appended } = await this.store.execute(
      streamFor('project', projectId),
      projectReducer,
      decide,
      context,
    );
    await this.hub.waitFor(appended?.position);
  }

  /** Appends what `decide` makes of the user's stream, and waits until the directory has folded it. */
  private async decideOnUser(
    userId: string,
    decide: (state: UserState) => object[],
    context: EventContext,
  ): Promise<void> {
    const { appended } = await this.store.execute(streamFor('user', userId), userReducer, decide, context);
    await this.hub.waitFor(appended?.position);
  }

  // -------------------------------------------------------------------------------------------------------
  // Application credentials: `/v3/users/{id}/application_credentials`.
  // -------------------------------------------------------------------------------------------------------

  /**
   * A new application credential of the caller's own, on the project its token is scoped to, with the
   * roles it names (each one the token holds) or all the token's roles. Its secret is generated unless
   * given, and is returned this once: only its hash is kept.
   */
  async createApplicationCredential(
    caller: Principal,
    userId: string,
    request: CreateApplicationCredentialBody['application_credential'],
    context: EventContext,
  ): Promise<{ credential: ApplicationCredential; secret: string }> {
    if (caller.userId !== userId) throw policyForbids('identity:create_application_credential');
    refuseRestricted(caller);
    const roles = (request.roles ?? []).map((ref) => heldRole(caller, ref));
    const expiresAt = this.futureTime(request.expires_at ?? null);
    const secret = request.secret ?? randomBytes(64).toString('base64url');
    const applicationCredentialId = randomUUID().replaceAll('-', '');
    const fields = {
      applicationCredentialId,
      name: request.name,
      description: request.description ?? null,
      projectId: caller.projectId,
      // A credential carries built-in roles only (those policy reads).
      roles: roles.length > 0 ? [...new Set(roles)] : caller.roles.filter(isBuiltInRole),
      secretHash: await hashPassword(secret),
      expiresAt,
      unrestricted: request.unrestricted ?? false,
    };
    await this.decideOnUser(
      userId,
      (state) => decideCreateApplicationCredential(state, userId, fields),
      context,
    );
    const user = this.found(this.directory.user(userId));
    return { credential: this.found(applicationCredentialOf(user, applicationCredentialId)), secret };
  }

  /** The user's credential; its owner or an admin may read it (else 403), and 404 if it is not there. */
  applicationCredential(caller: Principal, userId: string, id: string): ApplicationCredential {
    const credential = this.applicationCredentials(caller, userId).find((held) => held.id === id);
    if (!credential) throw notFound(`Could not find application credential: ${id}.`);
    return credential;
  }

  /** The user's credentials, by name; its owner or an admin may list them. */
  applicationCredentials(caller: Principal, userId: string): ApplicationCredential[] {
    if (caller.userId !== userId && !caller.roles.includes('admin'))
      throw policyForbids('identity:list_application_credentials');
    const user = this.directory.user(userId);
    if (!user) throw notFound(`Could not find user: ${userId}.`);
    return Object.values(user.applicationCredentials).sort(
      (left, right) => left.name.localeCompare(right.name) || left.id.localeCompare(right.id),
    );
  }

  /** Deletes the credential; tokens obtained with it stop working at once. */
  async deleteApplicationCredential(
    caller: Principal,
    userId: string,
    id: string,
    context: EventContext,
  ): Promise<void> {
    this.applicationCredential(caller, userId, id);
    refuseRestricted(caller);
    await this.decideOnUser(userId, (state) => decideDeleteApplicationCredential(state, userId, id), context);
  }

  /** An ISO 8601 time in the future, normalised; null stays null (never expires). */
  private futureTime(value: string | null): string | null {
    if (value === null) return null;
    // Keystone's clients send naive times, meant as UTC.
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
    const millis = Date.parse(zoned);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(millis))
      throw badRequest(`Invalid input for field 'expires_at': '${value.slice(0, 64)}' is not a date-time.`);
    if (millis <= this.clock().getTime())
      throw badRequest('Invalid application credential: the expiration time is in the past.');
    return new Date(millis).toISOString();
  }

  private found<T>(value: T | undefined): T {
    if (value === undefined) throw new Error('an identity write was not folded into the directory');
    return value;
  }

  // -------------------------------------------------------------------------------------------------------

  private tryValidate(token: string): Principal | null {
    const now = this.clock();
    const claims = this.signer.verify(token, now);
    if (!claims || this.directory.isRevoked(claims.a, now)) return null;
    try {
      return this.principalOf(claims);
    } catch {
      return null;
    }
  }

  private stillProves(principal: Principal): boolean {
    if (this.directory.isRevoked(principal.auditId, this.clock())) return false;
    const live = this.liveScope(
      principal.userId,
      principal.scoped ? principal.projectId : null,
      Date.parse(principal.issuedAt) / 1000,
      principal.applicationCredential?.id,
    );
    if (!live) return false;
    const { roles } = live;
    return roles.length === principal.roles.length && roles.every((role) => principal.roles.includes(role));
  }

  /**
   * The user, project and roles a token of that user on that project, issued at `issuedAt` (seconds),
   * stands for now; null when it stands for nothing any more: the user or project gone or disabled, or
   * the password changed since. An unscoped token (no project) needs its user only, and carries no
   * role. A token obtained with an application credential also needs the credential unexpired and every
   * one of its roles still held, and carries those roles only. Token validation and token watches both
   * ask here.
   */
  private liveScope(
    userId: string,
    projectId: string | null,
    issuedAt: number,
    credentialId?: string,
  ): {
    user: UserState;
    project: ProjectState | null;
    roles: string[];
    credential?: ApplicationCredential;
  } | null {
    const user = this.directory.user(userId);
    if (!user?.enabled || issuedBeforePasswordChange(user, issuedAt)) return null;
    // A disabled domain takes its users' and its projects' tokens with it.
    if (!this.directory.domain(user.domainId)?.enabled) return null;
    if (projectId === null) return credentialId === undefined ? { user, project: null, roles: [] } : null;
    const project = this.directory.project(projectId);
    if (!project?.enabled || !this.directory.domain(project.domainId)?.enabled) return null;
    const roles = this.directory.effectiveRoles(user, project.id);
    if (credentialId === undefined) return { user, project, roles };
    const credential = applicationCredentialOf(user, credentialId);
    if (!credential || credential.projectId !== project.id || this.expired(credential)) return null;
    if (!credential.roles.every((role) => roles.includes(role))) return null;
    const granted: readonly string[] = credential.roles;
    return { user, project, roles: roles.filter((role) => granted.includes(role)), credential };
  }

  private expired(credential: ApplicationCredential): boolean {
    return credential.expiresAt !== null && Date.parse(credential.expiresAt) <= this.clock().getTime();
  }

  private principalOf(claims: TokenClaims): Principal {
    const live = this.liveScope(claims.u, claims.p, claims.i, claims.c);
    // A scoped token stands for something only while its user holds a role on the project.
    if (!live || (live.project !== null && live.roles.length === 0)) throw unauthorized();
    const { user, project, roles, credential } = live;
    return {
      userId: user.id,
      userName: user.name,
      domainId: user.domainId,
      scoped: project !== null,
      projectId: project?.id ?? '',
      projectName: project?.name ?? '',
      roles,
      auditId: claims.a,
      issuedAt: new Date(claims.i * 1000).toISOString(),
      expiresAt: new Date(claims.e * 1000).toISOString(),
      methods: claims.m,
      ...(credential
        ? {
            applicationCredential: {
              id: credential.id,
              name: credential.name,
              restricted: !credential.unrestricted,
            },
          }
        : {}),
    };
  }

  /** The application credential the request names (by id, or by name and user) and its user, or 401. */
  private async checkApplicationCredential(given: {
    readonly id?: string;
    readonly name?: string;
    readonly secret: string;
    readonly user?: {
      readonly id?: string;
      readonly name?: string;
      readonly domain?: { readonly id?: string; readonly name?: string };
    };
  }): Promise<{ user: UserState; credential: ApplicationCredential }> {
    let user: UserState | undefined;
    let credential: ApplicationCredential | undefined;
    if (given.id !== undefined) {
      user = this.directory.applicationCredentialOwner(given.id);
      credential = user && applicationCredentialOf(user, given.id);
    } else if (given.name !== undefined && given.user !== undefined) {
      user = this.userOf(given.user);
      credential =
        user && Object.values(user.applicationCredentials).find((held) => held.name === given.name);
    } else {
      throw missingIn('application_credential', 'id or name and user');
    }
    // As for passwords, a missing credential costs as much as a wrong secret.
    const matches = await verifyPassword(given.secret, credential?.secretHash ?? NO_SUCH_HASH);
    if (!user?.enabled || !credential || !matches || this.expired(credential)) throw unauthorized();
    return { user, credential };
  }

  private userOf(given: {
    readonly id?: string;
    readonly name?: string;
    readonly domain?: { readonly id?: string; readonly name?: string };
  }): UserState | undefined {
    if (given.id !== undefined) return this.directory.user(given.id);
    if (given.name === undefined) throw missingIn('user', 'id or name');
    const domainId = this.domainIdOf(given.domain);
    return domainId === null ? undefined : this.directory.userByName(domainId, given.name);
  }

  private async checkPassword(given: {
    readonly id?: string;
    readonly name?: string;
    readonly password: string;
    readonly domain?: { readonly id?: string; readonly name?: string };
  }): Promise<UserState> {
    const user = this.userOf(given);
    // A missing user costs as much as a wrong password, so the answer time does not tell which it was.
    const hash = user?.passwordHash ?? NO_SUCH_HASH;
    const matches = await verifyPassword(given.password, hash);
    if (!user?.enabled || !matches) throw unauthorized();
    return user;
  }

  /**
   * The project a token is scoped to: the one asked for (401 if it is not there, disabled, or the user
   * holds no role on it), else the user's default project if the user may use it, else none: Keystone's
   * unscoped token, which proves the user and can only be exchanged for a scoped one.
   */
  private scopeOf(
    user: UserState,
    project:
      | {
          readonly id?: string;
          readonly name?: string;
          readonly domain?: { readonly id?: string; readonly name?: string };
        }
      | undefined,
  ): ProjectState | null {
    if (project === undefined) {
      const fallback =
        user.defaultProjectId === null ? undefined : this.directory.project(user.defaultProjectId);
      return fallback?.enabled && this.directory.effectiveRoles(user, fallback.id).length > 0
        ? fallback
        : null;
    }
    let found: ProjectState | undefined;
    if (project.id !== undefined) {
      found = this.directory.project(project.id);
    } else if (project.name !== undefined) {
      const domainId = this.domainIdOf(project.domain);
      found = domainId === null ? undefined : this.directory.projectByName(domainId, project.name);
    }
    if (!found?.enabled || this.directory.effectiveRoles(user, found.id).length === 0) throw unauthorized();
    return found;
  }
}

/**
 * The id something new of that name gets: the one derived from the name, unless something renamed
 * since still holds it (its name left behind is used again), in which case a random one.
 */
function idForNewName(derived: string, taken: (id: string) => boolean): string {
  return taken(derived) ? randomBytes(16).toString('hex') : derived;
}

/**
 * Whether a token issued at `issuedAt` (seconds, as tokens carry it) predates the user's last password
 * change. Tokens carry whole seconds, so one issued in the very second of the change still counts as
 * after it: a client that signs in again at once must not be refused.
 */
function issuedBeforePasswordChange(user: UserState, issuedAt: number): boolean {
  if (user.passwordChangedAt === null) return false;
  return issuedAt < Math.floor(Date.parse(user.passwordChangedAt) / 1000);
}

/** A well-formed hash nothing matches, checked when there is nothing to check, to take the same time. */
const NO_SUCH_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** Keystone's 400 for an authentication method named without its section (or a section missing a part). */
function missingIn(section: string, what = section): ApiError {
  return badRequest(
    `Expecting to find ${what} in ${section === what ? 'identity' : section} - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );
}

/** A token from a restricted application credential may not manage application credentials. */
function refuseRestricted(caller: Principal): void {
  if (caller.applicationCredential?.restricted)
    throw forbidden(
      "Using method 'application_credential' is not allowed for managing additional application credentials.",
    );
}

/** The role a reference names (by id or name), which the caller's token must hold. */
function heldRole(caller: Principal, ref: { readonly id?: string; readonly name?: string }): KeystoneRole {
  const role = KEYSTONE_ROLES.find((candidate) =>
    ref.id !== undefined ? roleIdFor(candidate) === ref.id : candidate === ref.name,
  );
  if (role === undefined) throw notFound(`Could not find role: ${ref.id ?? ref.name ?? ''}.`);
  if (!caller.roles.includes(role))
    throw notFound(
      `Could not find role assignment with role: ${roleIdFor(role)}, user or group: ${caller.userId}, project, domain, or system: ${caller.projectId}.`,
    );
  return role;
}

function mayActOnToken(caller: Principal, subject: Principal, rule: string): void {
  const allowed =
    caller.userId === subject.userId || caller.roles.includes('admin') || caller.roles.includes('service');
  if (!allowed) throw policyForbids(rule);
}
