/**
 * The server group read model: every live group folded in memory from `servergroup-` streams, for the
 * server groups API, quota usage and a boot's `group` hint. Its own file so that quotas can count groups
 * without importing the service that checks the server_groups quota.
 */
import { Injectable } from '@nestjs/common';

import { type ServerGroupState, evolveServerGroup, initialServerGroup } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../../common/store/read-model-hub.js';

/** The server group read model, folded in memory from `servergroup-` streams. */
@Injectable()
export class ServerGroupDirectory implements ReadModel {
  readonly streamPrefixes = ['servergroup-'];
  private readonly groups = new Map<string, ServerGroupState>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    const id = event.stream.slice('servergroup-'.length);
    this.groups.set(id, evolveServerGroup(this.groups.get(id) ?? initialServerGroup(), event));
  }

  get(id: string): ServerGroupState | undefined {
    const group = this.groups.get(id);
    return group?.exists && !group.deleted ? group : undefined;
  }

  all(): ServerGroupState[] {
    return [...this.groups.values()]
      .filter((group) => group.exists && !group.deleted)
      .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id));
  }
}
