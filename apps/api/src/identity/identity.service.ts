/**
 * The Keystone token subset: password or token authentication scoped to a project, token validation (for
 * every API call and for `GET /v3/auth/tokens`), revocation, and the identity writes bootstrap and
 * operators need (projects, users, role assignments). Tokens are signed claims; users, projects, roles and
 * revocations are events.
 * Must never log, store or echo a password or token; failed authentication says only Keystone's 401.
 */
import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { type KeystoneRole, streamFor } from '#libs/contracts';
import {
  decideAssignRole,
  decideChangePassword,
  decideCreateProject,
  decideCreateUser,
  decideDeleteProject,
  decideDeleteUser,
  decideSetProjectEnabled,
  decideSetUserEnabled,
  decideUnassignRole,
  decideEnsureProject,
  decideRevokeToken,
  effectiveRoles,
  projectReducer,
  tokenRevocationReducer,
  userReducer,
  type ProjectFields,
  type ProjectState,
  type UserState,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import type { ApiConfig } from '../config/api.config.js';
import { ApiError, policyForbids, unauthorized } from '../common/http/api-error.js';
import { eventContextOf } from '../common/http/request-state.js';
import type { Principal } from '../common/auth/principal.js';
import type { TokenValidator, TokenWatch } from '../common/auth/auth.guard.js';
import { API_CONFIG, CLOCK, type Clock } from '../common/store/tokens.js';
import { ReadModelHub } from '../common/store/read-model-hub.js';
import type { AuthRequest } from './auth-request.schema.js';
import { IdentityDirectory } from './identity-directory.js';
import { DEFAULT_DOMAIN, projectIdFor, userIdFor } from './identity-ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { TokenSigner, type TokenClaims } from './token-signer.js';

export const TOKEN_SIGNER = Symbol('TokenSigner');

export interface IssuedToken {
  readonly token: string;
  readonly principal: Principal;
}

/** Keystone resolves a domain reference by id or by (case-insensitive) name; Nimbus knows only Default. */
function domainIdOf(domain: { readonly id?: string; readonly name?: string } | undefined): string | null {
  if (domain === undefined) return DEFAULT_DOMAIN.id;
  if (domain.id !== undefined) return domain.id === DEFAULT_DOMAIN.id ? DEFAULT_DOMAIN.id : null;
  if (domain.name !== undefined)
    return domain.name.toLowerCase() === DEFAULT_DOMAIN.name.toLowerCase() ? DEFAULT_DOMAIN.id : null;
  return DEFAULT_DOMAIN.id;
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
    let user: UserState;
    let methods: string[];
    let expiresAt: number | null = null;
    if (identity.methods.includes('password')) {
      if (!identity.password)
        throw new ApiError(
          400,
          'Expecting to find password in identity - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        );
      user = await this.checkPassword(identity.password.user);
      methods = ['password'];
    } else {
      if (!identity.token)
        throw new ApiError(
          400,
          'Expecting to find token in identity - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        );
      const proven = this.validate(identity.token.id);
      const found = this.directory.user(proven.userId);
      if (!found) throw unauthorized();
      user = found;
      methods = ['token'];
      // A token obtained with a token never outlives the first one, as in Keystone.
      expiresAt = Date.parse(proven.expiresAt) / 1000;
    }
    const project = this.scopeOf(user, scope?.project);
    if (effectiveRoles(user, project.id).length === 0) throw unauthorized();
    const issuedAt = Math.floor(this.clock().getTime() / 1000);
    const claims: TokenClaims = {
      u: user.id,
      p: project.id,
      a: TokenSigner.newAuditId(),
      i: issuedAt,
      e: expiresAt ?? issuedAt + this.config.tokenTtlSeconds,
      m: methods,
    };
    return { token: this.signer.sign(claims), principal: this.principalOf(claims) };
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
    const userId = userIdFor(DEFAULT_DOMAIN.id, name);
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
  async assignRole(
    userId: string,
    projectId: string,
    role: KeystoneRole,
    context: EventContext,
  ): Promise<void> {
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
  ): Promise<ProjectState> {
    const projectId = await this.decideOnProject(name, description, decideCreateProject, context);
    return this.found(this.directory.project(projectId));
  }

  /** Appends what `decide` makes of the named project's stream; waits until the directory has it. */
  private async decideOnProject(
    name: string,
    description: string | null,
    decide: (state: ProjectState, fields: ProjectFields) => object[],
    context: EventContext,
  ): Promise<string> {
    const projectId = projectIdFor(DEFAULT_DOMAIN.id, name);
    const { appended } = await this.store.execute(
      streamFor('project', projectId),
      projectReducer,
      (state: ProjectState) => decide(state, { projectId, name, domainId: DEFAULT_DOMAIN.id, description }),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return projectId;
  }

  /**
   * A new user in the default domain; its name taken is Keystone's 409. A user created without a password
   * gets one nobody knows: it cannot authenticate until an admin sets one.
   */
  async createUser(
    name: string,
    password: string | null,
    defaultProjectId: string | null,
    context: EventContext,
  ): Promise<UserState> {
    if (defaultProjectId !== null && !this.directory.project(defaultProjectId))
      throw new ApiError(400, `Could not find project: ${defaultProjectId}.`);
    const userId = userIdFor(DEFAULT_DOMAIN.id, name);
    const fields = { userId, name, domainId: DEFAULT_DOMAIN.id, defaultProjectId };
    const passwordHash = await hashPassword(password ?? randomBytes(32).toString('base64'));
    await this.decideOnUser(userId, (state) => decideCreateUser(state, { ...fields, passwordHash }), context);
    return this.found(this.directory.user(userId));
  }

  /** Disables (tokens scoped to it stop working at once) or enables a project. */
  async setProjectEnabled(projectId: string, enabled: boolean, context: EventContext): Promise<ProjectState> {
    await this.decideOnProjectId(
      projectId,
      (state) => decideSetProjectEnabled(state, projectId, enabled),
      context,
    );
    return this.found(this.directory.project(projectId));
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
  async unassignRole(
    userId: string,
    projectId: string,
    role: KeystoneRole,
    context: EventContext,
  ): Promise<void> {
    await this.decideOnUser(userId, (state) => decideUnassignRole(state, userId, projectId, role), context);
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
    const live = this.liveScope(principal.userId, principal.projectId, Date.parse(principal.issuedAt) / 1000);
    if (!live) return false;
    const { roles } = live;
    return roles.length === principal.roles.length && roles.every((role) => principal.roles.includes(role));
  }

  /**
   * The user, project and roles a token of that user on that project, issued at `issuedAt` (seconds),
   * stands for now; null when it stands for nothing any more: the user or project gone or disabled, or
   * the password changed since. Token validation and token watches both ask here.
   */
  private liveScope(
    userId: string,
    projectId: string,
    issuedAt: number,
  ): { user: UserState; project: ProjectState; roles: KeystoneRole[] } | null {
    const user = this.directory.user(userId);
    const project = this.directory.project(projectId);
    if (!user?.enabled || !project?.enabled || issuedBeforePasswordChange(user, issuedAt)) return null;
    return { user, project, roles: effectiveRoles(user, project.id) };
  }

  private principalOf(claims: TokenClaims): Principal {
    const live = this.liveScope(claims.u, claims.p, claims.i);
    if (!live || live.roles.length === 0) throw unauthorized();
    const { user, project, roles } = live;
    return {
      userId: user.id,
      userName: user.name,
      domainId: user.domainId,
      projectId: project.id,
      projectName: project.name,
      roles,
      auditId: claims.a,
      issuedAt: new Date(claims.i * 1000).toISOString(),
      expiresAt: new Date(claims.e * 1000).toISOString(),
      methods: claims.m,
    };
  }

  private async checkPassword(given: {
    readonly id?: string;
    readonly name?: string;
    readonly password: string;
    readonly domain?: { readonly id?: string; readonly name?: string };
  }): Promise<UserState> {
    let user: UserState | undefined;
    if (given.id !== undefined) user = this.directory.user(given.id);
    else if (given.name !== undefined) {
      const domainId = domainIdOf(given.domain);
      user = domainId === null ? undefined : this.directory.userByName(domainId, given.name);
    } else {
      throw new ApiError(
        400,
        'Expecting to find id or name in user - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
    }
    // A missing user costs as much as a wrong password, so the answer time does not tell which it was.
    const hash =
      user?.passwordHash ??
      'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const matches = await verifyPassword(given.password, hash);
    if (!user?.enabled || !matches) throw unauthorized();
    return user;
  }

  private scopeOf(
    user: UserState,
    project:
      | {
          readonly id?: string;
          readonly name?: string;
          readonly domain?: { readonly id?: string; readonly name?: string };
        }
      | undefined,
  ): ProjectState {
    let found: ProjectState | undefined;
    if (project === undefined) {
      found = user.defaultProjectId === null ? undefined : this.directory.project(user.defaultProjectId);
    } else if (project.id !== undefined) {
      found = this.directory.project(project.id);
    } else if (project.name !== undefined) {
      const domainId = domainIdOf(project.domain);
      found = domainId === null ? undefined : this.directory.projectByName(domainId, project.name);
    }
    if (!found?.enabled) throw unauthorized();
    return found;
  }
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

function mayActOnToken(caller: Principal, subject: Principal, rule: string): void {
  const allowed =
    caller.userId === subject.userId || caller.roles.includes('admin') || caller.roles.includes('service');
  if (!allowed) throw policyForbids(rule);
}
