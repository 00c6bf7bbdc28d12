/**
 * The server group aggregate: a group's name and policy as the fold of `servergroup-<uuid>`. Members are
 * the servers booted with the group as a hint; the scheduler's affinity filters read them from instances.
 * Pure: no I/O, no clock.
 */
import {
  type DecodedEvent,
  type Plain,
  ServerGroupCreated,
  ServerGroupDeleted,
  type ServerGroupEvent,
  type ServerGroupPolicy,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { ConflictingState, DomainError } from './errors.js';

export class ServerGroupNotFound extends DomainError {
  override readonly name = 'ServerGroupNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly serverGroupId: string) {
    super(`Instance group ${serverGroupId} could not be found.`);
  }
}

export interface ServerGroupState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly projectId: string;
  readonly userId: string;
  readonly name: string;
  readonly policy: ServerGroupPolicy;
  readonly createdAt: string | null;
}

export const initialServerGroup = (): ServerGroupState => ({
  exists: false,
  deleted: false,
  id: '',
  projectId: '',
  userId: '',
  name: '',
  policy: 'affinity',
  createdAt: null,
});

export function evolveServerGroup(state: ServerGroupState, event: DecodedEvent): ServerGroupState {
  if (!isKnownEvent(event)) return state;
  const groupEvent = event as ServerGroupEvent;
  switch (groupEvent.type) {
    case 'ServerGroupCreated': {
      const { serverGroupId, projectId, userId, name, policy } = groupEvent.data;
      const createdAt = event.metadata.occurredAt;
      return { exists: true, deleted: false, id: serverGroupId, projectId, userId, name, policy, createdAt };
    }
    case 'ServerGroupDeleted':
      return { ...state, deleted: true };
  }
  return state;
}

export const serverGroupReducer = { initial: initialServerGroup, evolve: evolveServerGroup };

export function decideCreateServerGroup(
  state: ServerGroupState,
  group: Plain<ServerGroupCreated>,
): ServerGroupCreated[] {
  if (state.exists) throw new ConflictingState(`Instance group ${group.serverGroupId} already exists.`);
  return [build(ServerGroupCreated, group)];
}

export function decideDeleteServerGroup(
  state: ServerGroupState,
  serverGroupId: string,
): ServerGroupDeleted[] {
  if (!state.exists || state.deleted) throw new ServerGroupNotFound(serverGroupId);
  return [build(ServerGroupDeleted, { serverGroupId })];
}
