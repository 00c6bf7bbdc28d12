/**
 * The identity aggregates behind the API's Keystone subset: a project (`project-<id>`), a user with its
 * password hash and role assignments (`user-<id>`), and a token's revocation (`token-<audit id>`).
 * Ids are derived from names by the caller, so "create if missing" is a fold and a decision, never a
 * lookup that could race. Passwords are hashed and checked outside (scrypt is slow on purpose); these
 * functions see only hashes.
 * Pure: no I/O, no clock.
 */
import {
  ApplicationCredentialCreated,
  ApplicationCredentialDeleted,
  type DecodedEvent,
  IdentityDomainCreated,
  IdentityDomainDeleted,
  IdentityDomainUpdated,
  KEYSTONE_ROLES,
  type KeystoneRole,
  MAX_PROJECT_TAGS,
  PROJECT_TAG_PATTERN,
  ProjectCreated,
  ProjectDeleted,
  ProjectDisabled,
  ProjectEnabled,
  ProjectUpdated,
  RoleAssigned,
  RoleCreated,
  RoleDeleted,
  RoleUnassigned,
  TokenRevoked,
  type UserEvent,
  UserCreated,
  UserDeleted,
  UserDisabled,
  UserEnabled,
  UserPasswordChanged,
  UserUpdated,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { DomainError } from './errors.js';

/** Keystone's "Conflict occurred attempting to store ..." (409). */
export class IdentityConflict extends DomainError {
  override readonly name = 'IdentityConflict';
  readonly code = 'Conflict' as const;
}

export class IdentityForbidden extends DomainError {
  override readonly name = 'IdentityForbidden';
  readonly code = 'Forbidden' as const;
}

export class IdentityBadRequest extends DomainError {
  override readonly name = 'IdentityBadRequest';
  readonly code = 'BadRequest' as const;
}

export class ProjectNotFound extends DomainError {
  override readonly name = 'ProjectNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly projectId: string) {
    super(`Could not find project: ${projectId}.`);
  }
}

export class ApplicationCredentialNotFound extends DomainError {
  override readonly name = 'ApplicationCredentialNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly applicationCredentialId: string) {
    super(`Could not find application credential: ${applicationCredentialId}.`);
  }
}

export class RoleNotFound extends DomainError {
  override readonly name = 'RoleNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly roleId: string) {
    super(`Could not find role: ${roleId}.`);
  }
}

export class UserNotFound extends DomainError {
  override readonly name = 'UserNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly userId: string) {
    super(`Could not find user: ${userId}.`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Domains an admin made (Default always exists and has no stream)
// ---------------------------------------------------------------------------------------------------------

export interface IdentityDomainState {
  readonly exists: boolean;
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly enabled: boolean;
}

export const initialIdentityDomain = (): IdentityDomainState => ({
  exists: false,
  id: '',
  name: '',
  description: null,
  enabled: false,
});

export function evolveIdentityDomain(state: IdentityDomainState, event: DecodedEvent): IdentityDomainState {
  const { data } = event;
  if (data instanceof IdentityDomainCreated) {
    const { domainId, name, description, enabled } = data;
    return { exists: true, id: domainId, name, description, enabled };
  }
  if (data instanceof IdentityDomainUpdated) {
    return {
      ...state,
      name: data.name ?? state.name,
      description: data.description === undefined ? state.description : data.description,
      enabled: data.enabled ?? state.enabled,
    };
  }
  if (data instanceof IdentityDomainDeleted) return initialIdentityDomain();
  return state;
}

export const identityDomainReducer = { initial: initialIdentityDomain, evolve: evolveIdentityDomain };

export class IdentityDomainNotFound extends DomainError {
  override readonly name = 'IdentityDomainNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly domainId: string) {
    super(`Could not find domain: ${domainId}.`);
  }
}

/** A domain's name is unique (Default's too): Keystone's 409. */
export function decideCreateIdentityDomain(
  state: IdentityDomainState,
  fields: {
    readonly domainId: string;
    readonly name: string;
    readonly description: string | null;
    readonly enabled: boolean;
  },
): IdentityDomainCreated[] {
  if (state.exists || fields.name.toLowerCase() === 'default') {
    throw new IdentityConflict(
      `Conflict occurred attempting to store domain - Duplicate entry found with name ${fields.name}.`,
    );
  }
  return [build(IdentityDomainCreated, fields)];
}

export function decideUpdateIdentityDomain(
  state: IdentityDomainState,
  domainId: string,
  changes: { readonly name?: string; readonly description?: string | null; readonly enabled?: boolean },
): IdentityDomainUpdated[] {
  if (!state.exists) throw new IdentityDomainNotFound(domainId);
  const name = changes.name !== undefined && changes.name !== state.name ? changes.name : undefined;
  const description =
    changes.description !== undefined && changes.description !== state.description
      ? changes.description
      : undefined;
  const enabled =
    changes.enabled !== undefined && changes.enabled !== state.enabled ? changes.enabled : undefined;
  if (name === undefined && description === undefined && enabled === undefined) return [];
  return [
    build(IdentityDomainUpdated, {
      domainId,
      ...(name === undefined ? {} : { name }),
      ...(description === undefined ? {} : { description }),
      ...(enabled === undefined ? {} : { enabled }),
    }),
  ];
}

/** Keystone deletes a disabled domain only (403 otherwise); its projects and users go first. */
export function decideDeleteIdentityDomain(
  state: IdentityDomainState,
  domainId: string,
): IdentityDomainDeleted[] {
  if (!state.exists) throw new IdentityDomainNotFound(domainId);
  if (state.enabled)
    throw new IdentityForbidden('Cannot delete a domain that is enabled, please disable it first.');
  return [build(IdentityDomainDeleted, { domainId })];
}

// ---------------------------------------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------------------------------------

export interface ProjectState {
  readonly exists: boolean;
  readonly id: string;
  readonly name: string;
  readonly domainId: string;
  readonly description: string | null;
  /** A disabled project takes no tokens. */
  readonly enabled: boolean;
  /** Keystone's project tags, in the order they were given. */
  readonly tags: readonly string[];
}

export const initialProject = (): ProjectState => ({
  exists: false,
  id: '',
  name: '',
  domainId: '',
  description: null,
  enabled: false,
  tags: [],
});

export function evolveProject(state: ProjectState, event: DecodedEvent): ProjectState {
  const { data } = event;
  if (data instanceof ProjectCreated) {
    const { projectId, name, domainId, description } = data;
    return { exists: true, id: projectId, name, domainId, description, enabled: true, tags: [] };
  }
  if (data instanceof ProjectUpdated) {
    return {
      ...state,
      name: data.name ?? state.name,
      description: data.description === undefined ? state.description : data.description,
      tags: data.tags ?? state.tags,
    };
  }
  if (data instanceof ProjectDisabled) return { ...state, enabled: false };
  if (data instanceof ProjectEnabled) return { ...state, enabled: true };
  if (data instanceof ProjectDeleted) return initialProject();
  return state;
}

export const projectReducer = { initial: initialProject, evolve: evolveProject };

export interface ProjectFields {
  readonly projectId: string;
  readonly name: string;
  readonly domainId: string;
  readonly description: string | null;
}

/** `POST /v3/projects`: a second project of the same name in the domain is Keystone's 409. */
/** A new project, with the tags it is created with, and disabled from the start when asked so. */
export function decideCreateProject(
  state: ProjectState,
  fields: ProjectFields,
  options: { readonly enabled?: boolean; readonly tags?: readonly string[] } = {},
): (ProjectCreated | ProjectUpdated | ProjectDisabled)[] {
  if (state.exists) {
    throw new IdentityConflict(
      `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${fields.name}.`,
    );
  }
  const { projectId, name, domainId, description } = fields;
  const created: ProjectState = {
    exists: true,
    id: projectId,
    name,
    domainId,
    description,
    enabled: true,
    tags: [],
  };
  return [
    build(ProjectCreated, fields),
    ...(options.tags === undefined ? [] : decideUpdateProject(created, projectId, { tags: options.tags })),
    ...(options.enabled === false ? decideSetProjectEnabled(created, projectId, false) : []),
  ];
}

/** What a project update may change; an absent field stays as it is. */
export interface ProjectChanges {
  /** The caller checked that no other project of the domain has it. */
  readonly name?: string;
  readonly description?: string | null;
  readonly tags?: readonly string[];
}

/** Changes the description or the tags (the whole list, repeats dropped); what changes nothing appends nothing. */
export function decideUpdateProject(
  state: ProjectState,
  projectId: string,
  changes: ProjectChanges,
): ProjectUpdated[] {
  if (!state.exists) throw new ProjectNotFound(projectId);
  const name = changes.name !== undefined && changes.name !== state.name ? changes.name : undefined;
  const description =
    changes.description !== undefined && changes.description !== state.description
      ? changes.description
      : undefined;
  const wanted = changes.tags === undefined ? undefined : [...new Set(changes.tags)];
  const tags =
    wanted !== undefined &&
    (wanted.length !== state.tags.length || wanted.some((tag, index) => tag !== state.tags[index]))
      ? wanted
      : undefined;
  if (name === undefined && description === undefined && tags === undefined) return [];
  if (tags !== undefined && tags.length > MAX_PROJECT_TAGS) {
    throw new IdentityBadRequest(`A project may have at most ${MAX_PROJECT_TAGS} tags.`);
  }
  const invalid = tags?.find((tag) => !PROJECT_TAG_PATTERN.test(tag));
  if (invalid !== undefined) {
    throw new IdentityBadRequest(
      `Invalid input for field 'tags': '${invalid.slice(0, 64)}' has a '/' or ',' or is not 1-255 characters.`,
    );
  }
  return [
    build(ProjectUpdated, {
      projectId,
      ...(name === undefined ? {} : { name }),
      ...(description === undefined ? {} : { description }),
      ...(tags === undefined ? {} : { tags }),
    }),
  ];
}

/** Enabling or disabling a project as it already is is nothing to do. */
export function decideSetProjectEnabled(
  state: ProjectState,
  projectId: string,
  enabled: boolean,
): (ProjectEnabled | ProjectDisabled)[] {
  if (!state.exists) throw new ProjectNotFound(projectId);
  if (state.enabled === enabled) return [];
  return [enabled ? build(ProjectEnabled, { projectId }) : build(ProjectDisabled, { projectId })];
}

export function decideDeleteProject(state: ProjectState, projectId: string): ProjectDeleted[] {
  if (!state.exists) throw new ProjectNotFound(projectId);
  return [build(ProjectDeleted, { projectId })];
}

/** Creating a project that exists is nothing to do: the id is derived from the name, so it is the same one. */
export function decideEnsureProject(state: ProjectState, fields: ProjectFields): ProjectCreated[] {
  if (state.exists) return [];
  return [build(ProjectCreated, fields)];
}

// ---------------------------------------------------------------------------------------------------------
// Users and role assignments
// ---------------------------------------------------------------------------------------------------------

export interface UserState {
  readonly exists: boolean;
  readonly id: string;
  readonly name: string;
  readonly domainId: string;
  readonly passwordHash: string;
  /** When the password last changed (null: as created): tokens issued before then stop working. */
  readonly passwordChangedAt: string | null;
  readonly defaultProjectId: string | null;
  readonly description: string | null;
  readonly email: string | null;
  /** A disabled user cannot authenticate, and its tokens stop working. */
  readonly enabled: boolean;
  /** project id → the names of the roles assigned directly (not the implied ones). */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** application credential id → the credential. */
  readonly applicationCredentials: Readonly<Record<string, ApplicationCredential>>;
}

/** What an application credential stands for; its secret is kept as a hash only. */
export interface ApplicationCredential {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly projectId: string;
  readonly roles: readonly KeystoneRole[];
  readonly secretHash: string;
  readonly expiresAt: string | null;
  readonly unrestricted: boolean;
}

export const initialUser = (): UserState => ({
  exists: false,
  id: '',
  name: '',
  domainId: '',
  passwordHash: '',
  passwordChangedAt: null,
  defaultProjectId: null,
  description: null,
  email: null,
  enabled: false,
  roles: {},
  applicationCredentials: {},
});

export function evolveUser(state: UserState, event: DecodedEvent): UserState {
  if (!isKnownEvent(event)) return state;
  const userEvent = event as UserEvent;
  switch (userEvent.type) {
    case 'UserCreated': {
      const { userId, name, domainId, passwordHash, defaultProjectId } = userEvent.data;
      return {
        ...initialUser(),
        exists: true,
        id: userId,
        name,
        domainId,
        passwordHash,
        defaultProjectId,
        enabled: true,
      };
    }
    case 'UserPasswordChanged':
      return {
        ...state,
        passwordHash: userEvent.data.passwordHash,
        passwordChangedAt: event.metadata.occurredAt,
      };
    case 'RoleAssigned': {
      const { projectId, role } = userEvent.data;
      const held = state.roles[projectId] ?? [];
      return held.includes(role)
        ? state
        : { ...state, roles: { ...state.roles, [projectId]: [...held, role] } };
    }
    case 'RoleUnassigned': {
      const { projectId, role } = userEvent.data;
      const held = (state.roles[projectId] ?? []).filter((candidate) => candidate !== role);
      return { ...state, roles: { ...state.roles, [projectId]: held } };
    }
    case 'UserDisabled':
      return { ...state, enabled: false };
    case 'UserEnabled':
      return { ...state, enabled: true };
    case 'UserUpdated': {
      const { name, defaultProjectId, description, email } = userEvent.data;
      return {
        ...state,
        name: name ?? state.name,
        defaultProjectId: defaultProjectId === undefined ? state.defaultProjectId : defaultProjectId,
        description: description === undefined ? state.description : description,
        email: email === undefined ? state.email : email,
      };
    }
    case 'UserDeleted':
      return initialUser();
    case 'ApplicationCredentialCreated': {
      const { applicationCredentialId: id, userId: _user, ...credential } = userEvent.data;
      return {
        ...state,
        applicationCredentials: { ...state.applicationCredentials, [id]: { id, ...credential } },
      };
    }
    case 'ApplicationCredentialDeleted': {
      const { [userEvent.data.applicationCredentialId]: _gone, ...kept } = state.applicationCredentials;
      return { ...state, applicationCredentials: kept };
    }
  }
  return state;
}

export const userReducer = { initial: initialUser, evolve: evolveUser };

export interface UserFields {
  readonly userId: string;
  readonly name: string;
  readonly domainId: string;
  readonly passwordHash: string;
  readonly defaultProjectId: string | null;
}

/** A new user, with the description and email it is created with. */
export function decideCreateUser(
  state: UserState,
  fields: UserFields,
  details: Pick<UserChanges, 'description' | 'email'> = {},
): (UserCreated | UserUpdated)[] {
  if (state.exists) {
    throw new IdentityConflict(
      `Conflict occurred attempting to store user - Duplicate entry found with name ${fields.name} at domain ID ${fields.domainId}.`,
    );
  }
  const created: UserState = { ...initialUser(), exists: true, id: fields.userId, name: fields.name };
  return [build(UserCreated, fields), ...decideUpdateUser(created, fields.userId, details)];
}

/** What an admin may change of a user's details; an absent field stays, null clears it. */
export interface UserChanges {
  /** The caller checked that no other user of the domain has it. */
  readonly name?: string;
  readonly defaultProjectId?: string | null;
  readonly description?: string | null;
  readonly email?: string | null;
}

/** Changes the details that differ; what changes nothing appends nothing. */
export function decideUpdateUser(state: UserState, userId: string, changes: UserChanges): UserUpdated[] {
  if (!state.exists) throw new UserNotFound(userId);
  const changed = <K extends keyof UserChanges>(key: K): UserChanges[K] | undefined =>
    changes[key] !== undefined && changes[key] !== state[key] ? changes[key] : undefined;
  const fields = {
    name: changed('name'),
    defaultProjectId: changed('defaultProjectId'),
    description: changed('description'),
    email: changed('email'),
  };
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) return [];
  return [build(UserUpdated, { userId, ...given })];
}

export function decideChangePassword(
  state: UserState,
  userId: string,
  passwordHash: string,
): UserPasswordChanged[] {
  if (!state.exists) throw new UserNotFound(userId);
  if (state.passwordHash === passwordHash) return [];
  return [build(UserPasswordChanged, { userId, passwordHash })];
}

/** Enabling or disabling a user as it already is is nothing to do. */
export function decideSetUserEnabled(
  state: UserState,
  userId: string,
  enabled: boolean,
): (UserEnabled | UserDisabled)[] {
  if (!state.exists) throw new UserNotFound(userId);
  if (state.enabled === enabled) return [];
  return [enabled ? build(UserEnabled, { userId }) : build(UserDisabled, { userId })];
}

export function decideDeleteUser(state: UserState, userId: string): UserDeleted[] {
  if (!state.exists) throw new UserNotFound(userId);
  return [build(UserDeleted, { userId })];
}

/** Assigning a role already held is nothing to do, as Keystone's PUT on a role assignment is idempotent. */
export function decideAssignRole(
  state: UserState,
  userId: string,
  projectId: string,
  role: string,
): RoleAssigned[] {
  if (!state.exists) throw new UserNotFound(userId);
  if ((state.roles[projectId] ?? []).includes(role)) return [];
  return [build(RoleAssigned, { userId, projectId, role })];
}

export function decideUnassignRole(
  state: UserState,
  userId: string,
  projectId: string,
  role: string,
): RoleUnassigned[] {
  if (!state.exists) throw new UserNotFound(userId);
  if (!(state.roles[projectId] ?? []).includes(role)) return [];
  return [build(RoleUnassigned, { userId, projectId, role })];
}

/** The user's credential of that id (an own entry only: ids come from requests). */
export function applicationCredentialOf(state: UserState, id: string): ApplicationCredential | undefined {
  return Object.hasOwn(state.applicationCredentials, id) ? state.applicationCredentials[id] : undefined;
}

export type ApplicationCredentialFields = Omit<ApplicationCredentialCreated, 'userId'>;

/** A second credential of the same name for the user is Keystone's 409. */
export function decideCreateApplicationCredential(
  state: UserState,
  userId: string,
  fields: ApplicationCredentialFields,
): ApplicationCredentialCreated[] {
  if (!state.exists) throw new UserNotFound(userId);
  if (Object.values(state.applicationCredentials).some((held) => held.name === fields.name)) {
    throw new IdentityConflict(
      `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${fields.name}.`,
    );
  }
  return [build(ApplicationCredentialCreated, { userId, ...fields })];
}

export function decideDeleteApplicationCredential(
  state: UserState,
  userId: string,
  applicationCredentialId: string,
): ApplicationCredentialDeleted[] {
  const credential = applicationCredentialOf(state, applicationCredentialId);
  if (!state.exists || credential === undefined)
    throw new ApplicationCredentialNotFound(applicationCredentialId);
  const { projectId } = credential;
  return [build(ApplicationCredentialDeleted, { userId, applicationCredentialId, projectId })];
}

/** Keystone's default implied roles: admin implies member, member implies reader. */
const IMPLIES: Readonly<Record<KeystoneRole, readonly KeystoneRole[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
  reader: [],
  service: [],
};

export function isBuiltInRole(role: string): role is KeystoneRole {
  return (KEYSTONE_ROLES as readonly string[]).includes(role);
}

/**
 * The roles a token scoped to `projectId` carries: the built-in ones assigned and those they imply, in
 * a stable order, then the roles an admin made that the user holds there and that still exist.
 */
export function effectiveRoles(
  state: UserState,
  projectId: string,
  roleExists: (name: string) => boolean = () => true,
): string[] {
  const assigned = state.roles[projectId] ?? [];
  const builtIn = new Set<KeystoneRole>(
    assigned.filter(isBuiltInRole).flatMap((role) => [role, ...IMPLIES[role]]),
  );
  const custom = assigned.filter((role) => !isBuiltInRole(role) && roleExists(role)).sort();
  return [
    ...(['member', 'reader', 'admin', 'service'] as const).filter((role) => builtIn.has(role)),
    ...custom,
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Roles an admin made
// ---------------------------------------------------------------------------------------------------------

export interface RoleState {
  readonly exists: boolean;
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
}

export const initialRole = (): RoleState => ({ exists: false, id: '', name: '', description: null });

export function evolveRole(state: RoleState, event: DecodedEvent): RoleState {
  const { data } = event;
  if (data instanceof RoleCreated) {
    return { exists: true, id: data.roleId, name: data.name, description: data.description };
  }
  if (data instanceof RoleDeleted) return initialRole();
  return state;
}

export const roleReducer = { initial: initialRole, evolve: evolveRole };

/** A role's name is unique, and the built-in ones are taken: Keystone's 409 for either. */
export function decideCreateRole(
  state: RoleState,
  fields: { readonly roleId: string; readonly name: string; readonly description: string | null },
): RoleCreated[] {
  if (state.exists || isBuiltInRole(fields.name)) {
    throw new IdentityConflict(
      `Conflict occurred attempting to store role - Duplicate entry found with name ${fields.name}.`,
    );
  }
  return [build(RoleCreated, fields)];
}

export function decideDeleteRole(state: RoleState, roleId: string): RoleDeleted[] {
  if (!state.exists) throw new RoleNotFound(roleId);
  return [build(RoleDeleted, { roleId })];
}

// ---------------------------------------------------------------------------------------------------------
// Token revocations
// ---------------------------------------------------------------------------------------------------------

export interface TokenRevocationState {
  readonly revoked: boolean;
  readonly expiresAt: string | null;
}

export const initialTokenRevocation = (): TokenRevocationState => ({ revoked: false, expiresAt: null });

export function evolveTokenRevocation(
  state: TokenRevocationState,
  event: DecodedEvent,
): TokenRevocationState {
  if (event.data instanceof TokenRevoked) return { revoked: true, expiresAt: event.data.expiresAt };
  return state;
}

export const tokenRevocationReducer = { initial: initialTokenRevocation, evolve: evolveTokenRevocation };

/** Revoking a revoked token is nothing to do (Keystone answers 204 either way). */
export function decideRevokeToken(
  state: TokenRevocationState,
  token: { readonly auditId: string; readonly userId: string; readonly expiresAt: string },
): TokenRevoked[] {
  if (state.revoked) return [];
  return [build(TokenRevoked, token)];
}
