/**
 * Keystone's response bodies: version discovery, the token document (user, project, roles, audit ids,
 * times, catalog), projects, users, roles and role assignments, field for field as Keystone writes them.
 */
import type { ApplicationCredential, IdentityDomainState, ProjectState, UserState } from '#libs/domain';

import type { Principal } from '../common/auth/principal.js';
import { keystoneTime } from '../common/http/timestamps.js';
import type { CatalogEntry } from './catalog.js';
import { roleIdFor } from './identity-ids.js';

export const IDENTITY_VERSION_ID = 'v3.14';

export function identityVersion(baseUrl: string): Record<string, unknown> {
  return {
    id: IDENTITY_VERSION_ID,
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${baseUrl}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** How views name domains: by id, with the name the directory has for it. */
export interface DomainNames {
  of(domainId: string): { readonly id: string; readonly name: string };
  projectDomainId(projectId: string): string;
}

/** The token document; an unscoped token has no project, roles or catalog, as in Keystone. */
export function tokenView(
  principal: Principal,
  catalog: readonly CatalogEntry[] | null,
  domains: DomainNames,
): Record<string, unknown> {
  const domain = domains.of(principal.domainId);
  const scope = principal.scoped
    ? {
        project: {
          domain: domains.of(domains.projectDomainId(principal.projectId)),
          id: principal.projectId,
          name: principal.projectName,
        },
        is_domain: false,
        roles: principal.roles.map((role) => ({ id: roleIdFor(role), name: role })),
        ...(principal.applicationCredential === undefined
          ? {}
          : { application_credential: principal.applicationCredential }),
        ...(catalog === null ? {} : { catalog }),
      }
    : {};
  return {
    token: {
      methods: principal.methods,
      user: { domain, id: principal.userId, name: principal.userName, password_expires_at: null },
      audit_ids: [principal.auditId],
      expires_at: keystoneTime(principal.expiresAt),
      issued_at: keystoneTime(principal.issuedAt),
      ...scope,
    },
  };
}

/** A project as `GET /v3/projects/{id}` shows it: every project is a top-level one of its domain. */
export function projectView(project: ProjectState, baseUrl: string): Record<string, unknown> {
  return {
    id: project.id,
    name: project.name,
    domain_id: project.domainId,
    description: project.description ?? '',
    enabled: project.enabled,
    parent_id: project.domainId,
    is_domain: false,
    tags: [...project.tags],
    options: {},
    links: { self: `${baseUrl}/v3/projects/${project.id}` },
  };
}

/** A user as `GET /v3/users/{id}` shows it; never its password or hash. */
export function userView(user: UserState, baseUrl: string): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    domain_id: user.domainId,
    enabled: user.enabled,
    ...(user.defaultProjectId === null ? {} : { default_project_id: user.defaultProjectId }),
    ...(user.description === null ? {} : { description: user.description }),
    ...(user.email === null ? {} : { email: user.email }),
    password_expires_at: null,
    options: {},
    links: { self: `${baseUrl}/v3/users/${user.id}` },
  };
}

/** An application credential as Keystone shows it; its secret only in the answer that created it. */
export function applicationCredentialView(
  credential: ApplicationCredential,
  userId: string,
  baseUrl: string,
  secret?: string,
): Record<string, unknown> {
  return {
    id: credential.id,
    name: credential.name,
    description: credential.description,
    user_id: userId,
    project_id: credential.projectId,
    roles: credential.roles.map((role) => ({ id: roleIdFor(role), name: role, domain_id: null })),
    unrestricted: credential.unrestricted,
    expires_at: credential.expiresAt === null ? null : keystoneTime(credential.expiresAt),
    access_rules: [],
    ...(secret === undefined ? {} : { secret }),
    links: { self: `${baseUrl}/v3/users/${userId}/application_credentials/${credential.id}` },
  };
}

/** A global role (Keystone's defaults have no domain). */
export function roleView(
  role: { readonly name: string; readonly description: string | null },
  baseUrl: string,
): Record<string, unknown> {
  const id = roleIdFor(role.name);
  return {
    id,
    name: role.name,
    domain_id: null,
    description: role.description,
    options: {},
    links: { self: `${baseUrl}/v3/roles/${id}` },
  };
}

/** One direct assignment of a role to a user on a project, as `GET /v3/role_assignments` lists it. */
export function assignmentView(
  assignment: { user: UserState; project: ProjectState; role: string },
  baseUrl: string,
  includeNames: boolean,
  domains: DomainNames,
): Record<string, unknown> {
  const { user, project, role } = assignment;
  const id = roleIdFor(role);
  return {
    scope: {
      project: includeNames
        ? { id: project.id, name: project.name, domain: domains.of(project.domainId) }
        : { id: project.id },
    },
    user: includeNames
      ? { id: user.id, name: user.name, domain: domains.of(user.domainId) }
      : { id: user.id },
    role: includeNames ? { id, name: role } : { id },
    links: { assignment: `${baseUrl}/v3/projects/${project.id}/users/${user.id}/roles/${id}` },
  };
}

export function domainView(domain: IdentityDomainState, baseUrl: string): Record<string, unknown> {
  return {
    id: domain.id,
    name: domain.name,
    description: domain.description ?? '',
    enabled: domain.enabled,
    tags: [],
    options: {},
    links: { self: `${baseUrl}/v3/domains/${domain.id}` },
  };
}
