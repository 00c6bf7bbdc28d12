/**
 * The identity read model: users (with their application credentials), projects, roles an admin made,
 * role assignments and token revocations, folded in memory from the `user-`, `project-`, `role-` and
 * `token-` streams with the domain's
 * reducers. Token validation reads it on
 * every request, so it answers from memory: no store round trip per call.
 * Must never hold a password; user states carry hashes only, and nothing here is ever serialized out.
 */
import { Injectable } from '@nestjs/common';

import { KEYSTONE_ROLES, TokenRevoked } from '#libs/contracts';
import {
  type IdentityDomainState,
  type ProjectState,
  type RoleState,
  type UserState,
  effectiveRoles,
  evolveIdentityDomain,
  evolveProject,
  evolveRole,
  evolveUser,
  initialIdentityDomain,
  initialProject,
  initialRole,
  initialUser,
  isBuiltInRole,
} from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../common/store/read-model-hub.js';
import { DEFAULT_DOMAIN } from './identity-ids.js';

const key = (domainId: string, name: string): string => `${domainId}\u0000${name}`;

const DEFAULT_DOMAIN_STATE: IdentityDomainState = {
  exists: true,
  id: DEFAULT_DOMAIN.id,
  name: DEFAULT_DOMAIN.name,
  description: 'The default domain',
  enabled: true,
};

@Injectable()
export class IdentityDirectory implements ReadModel {
  readonly streamPrefixes = ['domain-', 'project-', 'user-', 'role-', 'token-'];
  private readonly users = new Map<string, UserState>();
  private readonly userIdsByName = new Map<string, string>();
  private readonly projects = new Map<string, ProjectState>();
  private readonly projectIdsByName = new Map<string, string>();
  /** Domains an admin made, by id (derived from the name); Default is not here. */
  private readonly domains = new Map<string, IdentityDomainState>();
  /** Roles an admin made, by id (derived from the name); the built-in ones are not here. */
  private readonly roles = new Map<string, RoleState>();
  private readonly roleIdsByName = new Map<string, string>();
  /** application credential id → its user's id (kept after a deletion: the user's state decides). */
  private readonly credentialOwners = new Map<string, string>();
  /** audit id → when the token would have expired (ms), after which the entry is useless. */
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    if (event.stream.startsWith('user-')) {
      const id = event.stream.slice('user-'.length);
      const next = evolveUser(this.users.get(id) ?? initialUser(), event);
      this.users.set(id, next);
      // A renamed user is found by its new name; its old one names nobody (lookups check the name).
      if (next.exists) this.userIdsByName.set(key(next.domainId, next.name), id);
      for (const credentialId of Object.keys(next.applicationCredentials))
        this.credentialOwners.set(credentialId, id);
    } else if (event.stream.startsWith('project-')) {
      const id = event.stream.slice('project-'.length);
      const next = evolveProject(this.projects.get(id) ?? initialProject(), event);
      this.projects.set(id, next);
      if (next.exists) this.projectIdsByName.set(key(next.domainId, next.name), id);
    } else if (event.stream.startsWith('domain-')) {
      const id = event.stream.slice('domain-'.length);
      this.domains.set(id, evolveIdentityDomain(this.domains.get(id) ?? initialIdentityDomain(), event));
    } else if (event.stream.startsWith('role-')) {
      const id = event.stream.slice('role-'.length);
      const next = evolveRole(this.roles.get(id) ?? initialRole(), event);
      this.roles.set(id, next);
      if (next.exists) this.roleIdsByName.set(next.name, id);
    } else if (event.data instanceof TokenRevoked) {
      this.revoked.set(event.data.auditId, Date.parse(event.data.expiresAt));
    } else {
      return;
    }
    this.changed();
  }

  /** Calls `listener` after every change to users, projects or revocations; returns its removal. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  user(userId: string): UserState | undefined {
    const user = this.users.get(userId);
    return user?.exists ? user : undefined;
  }

  /** The user that holds the application credential of that id, if one does. */
  applicationCredentialOwner(credentialId: string): UserState | undefined {
    const userId = this.credentialOwners.get(credentialId);
    const user = userId === undefined ? undefined : this.user(userId);
    return user && Object.hasOwn(user.applicationCredentials, credentialId) ? user : undefined;
  }

  userByName(domainId: string, name: string): UserState | undefined {
    const id = this.userIdsByName.get(key(domainId, name));
    const user = id === undefined ? undefined : this.user(id);
    return user?.name === name ? user : undefined;
  }

  project(projectId: string): ProjectState | undefined {
    const project = this.projects.get(projectId);
    return project?.exists ? project : undefined;
  }

  projectByName(domainId: string, name: string): ProjectState | undefined {
    const id = this.projectIdsByName.get(key(domainId, name));
    const project = id === undefined ? undefined : this.project(id);
    return project?.name === name ? project : undefined;
  }

  allUsers(): UserState[] {
    return [...this.users.values()].filter((user) => user.exists);
  }

  allProjects(): ProjectState[] {
    return [...this.projects.values()].filter((project) => project.exists);
  }

  /** The domain of that id while it exists: Default, or one an admin made. */
  domain(domainId: string): IdentityDomainState | undefined {
    if (domainId === DEFAULT_DOMAIN.id) return DEFAULT_DOMAIN_STATE;
    const domain = this.domains.get(domainId);
    return domain?.exists ? domain : undefined;
  }

  /** Keystone finds a domain by name case-insensitively. */
  domainByName(name: string): IdentityDomainState | undefined {
    const wanted = name.toLowerCase();
    return this.allDomains().find((domain) => domain.name.toLowerCase() === wanted);
  }

  /** Default first, then the domains an admin made, by name. */
  allDomains(): IdentityDomainState[] {
    const made = [...this.domains.values()].filter((domain) => domain.exists);
    return [DEFAULT_DOMAIN_STATE, ...made.sort((left, right) => left.name.localeCompare(right.name))];
  }

  /** Domain names for views; a domain deleted meanwhile is named by its id. */
  readonly domainNames = {
    of: (domainId: string): { id: string; name: string } => ({
      id: domainId,
      name: this.domain(domainId)?.name ?? domainId,
    }),
    projectDomainId: (projectId: string): string => this.project(projectId)?.domainId ?? DEFAULT_DOMAIN.id,
  };

  /** A role an admin made, by id, while it exists. */
  customRole(roleId: string): RoleState | undefined {
    const role = this.roles.get(roleId);
    return role?.exists ? role : undefined;
  }

  /** Every role: the built-in ones first, then those an admin made, by name. */
  allRoles(): { readonly name: string; readonly description: string | null }[] {
    const custom = [...this.roles.values()].filter((role) => role.exists);
    return [
      ...KEYSTONE_ROLES.map((name) => ({ name, description: null })),
      ...custom.sort((left, right) => left.name.localeCompare(right.name)),
    ];
  }

  /** Whether a role of that name exists now (built in, or made and not deleted). */
  roleExists(name: string): boolean {
    if (isBuiltInRole(name)) return true;
    const id = this.roleIdsByName.get(name);
    return id !== undefined && this.customRole(id) !== undefined;
  }

  /** The roles a token of the user on the project carries, without roles deleted since they were given. */
  effectiveRoles(user: UserState, projectId: string): string[] {
    return effectiveRoles(user, projectId, (name) => this.roleExists(name));
  }

  isRevoked(auditId: string, now: Date): boolean {
    const expiry = this.revoked.get(auditId);
    if (expiry === undefined) return false;
    if (expiry <= now.getTime()) {
      // The token is refused for having expired now; the revocation need not be kept in memory.
      this.revoked.delete(auditId);
    }
    return true;
  }

  /** Applies a revocation this process just appended, before the subscription delivers it. */
  noteRevoked(auditId: string, expiresAt: string): void {
    this.revoked.set(auditId, Date.parse(expiresAt));
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
