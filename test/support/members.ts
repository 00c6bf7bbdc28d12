/**
 * A project with one user holding a role on it, written to the store as the API's own identity writes
 * would be (the same decisions, ids and password hashing), for whole-system suites that need tenants
 * beside the bootstrap admin. The running API picks them up from the store; `login` waits for that.
 */
import { randomUUID } from 'node:crypto';

import { type KeystoneRole, streamFor } from '#libs/contracts';
import {
  decideAssignRole,
  decideCreateUser,
  decideEnsureProject,
  projectReducer,
  userReducer,
} from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import { DEFAULT_DOMAIN, projectIdFor, userIdFor } from '../../apps/api/src/identity/identity-ids.js';
import { hashPassword } from '../../apps/api/src/identity/passwords.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { eventually } from './eventually.js';

export interface Member {
  readonly project: string;
  readonly projectId: string;
  readonly user: string;
  readonly userId: string;
  readonly password: string;
}

const operatorContext = (): EventContext => ({
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'nimbus-e2e', projectId: null, kind: 'service' },
});

export async function addMember(
  store: EventStore,
  project: string,
  user: string,
  role: KeystoneRole = 'member',
): Promise<Member> {
  const context = operatorContext();
  const projectId = projectIdFor(DEFAULT_DOMAIN.id, project);
  await store.execute(
    streamFor('project', projectId),
    projectReducer,
    (state) =>
      decideEnsureProject(state, {
        projectId,
        name: project,
        domainId: DEFAULT_DOMAIN.id,
        description: null,
      }),
    context,
  );
  const userId = userIdFor(DEFAULT_DOMAIN.id, user);
  const password = `pw-${randomUUID()}`;
  const passwordHash = await hashPassword(password);
  await store.execute(
    streamFor('user', userId),
    userReducer,
    (state) =>
      decideCreateUser(state, {
        userId,
        name: user,
        domainId: DEFAULT_DOMAIN.id,
        passwordHash,
        defaultProjectId: projectId,
      }),
    context,
  );
  await store.execute(
    streamFor('user', userId),
    userReducer,
    (state) => decideAssignRole(state, userId, projectId, role),
    context,
  );
  return { project, projectId, user, userId, password };
}

/** Logs the member in, once the API has read its identity from the store. */
export function loginMember(apiUrl: string, member: Member): Promise<OpenStackHttp> {
  return eventually(
    `${member.user} to be able to log in`,
    () =>
      OpenStackHttp.login(apiUrl, {
        user: member.user,
        password: member.password,
        project: member.project,
      }).catch(() => undefined),
    15_000,
  );
}
