/**
 * Keystone's response bodies for the token subset: version discovery, the token document (user,
 * project, roles, audit ids, times, catalog) and projects, field for field as Keystone writes them.
 */
import type { ProjectState } from '#libs/domain';

import type { Principal } from '../common/auth/principal.js';
import { keystoneTime } from '../common/http/timestamps.js';
import type { CatalogEntry } from './catalog.js';
import { DEFAULT_DOMAIN, roleIdFor } from './identity-ids.js';

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

export function tokenView(
  principal: Principal,
  catalog: readonly CatalogEntry[] | null,
): Record<string, unknown> {
  const domain = { id: DEFAULT_DOMAIN.id, name: DEFAULT_DOMAIN.name };
  return {
    token: {
      methods: principal.methods,
      user: { domain, id: principal.userId, name: principal.userName, password_expires_at: null },
      audit_ids: [principal.auditId],
      expires_at: keystoneTime(principal.expiresAt),
      issued_at: keystoneTime(principal.issuedAt),
      project: { domain, id: principal.projectId, name: principal.projectName },
      is_domain: false,
      roles: principal.roles.map((role) => ({ id: roleIdFor(role), name: role })),
      ...(catalog === null ? {} : { catalog }),
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
    enabled: true,
    parent_id: project.domainId,
    is_domain: false,
    tags: [],
    options: {},
    links: { self: `${baseUrl}/v3/projects/${project.id}` },
  };
}
