/**
 * Server groups: create (bounded by the server_groups quota), list (own project, or every project for an
 * admin's `all_projects`), show, delete, and the lookup a boot's `group` hint makes. Members are the
 * group's live servers, read from the server projection.
 */
import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { type ServerGroupPolicy, streamFor } from '#libs/contracts';
import {
  QuotaExceeded,
  type ServerGroupState,
  ServerGroupNotFound,
  decideCreateServerGroup,
  decideDeleteServerGroup,
  serverGroupReducer,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import { canSeeProject, type Principal } from '../../common/auth/principal.js';
import { badRequest } from '../../common/http/api-error.js';
import { ReadModelHub } from '../../common/store/read-model-hub.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { ServerGroupDirectory } from './server-group-directory.js';
import { ServerProjection } from '../servers/projection/server-projection.js';

export interface GroupWithMembers extends ServerGroupState {
  readonly members: readonly string[];
}

@Injectable()
export class ServerGroupsService {
  constructor(
    private readonly directory: ServerGroupDirectory,
    private readonly projection: ServerProjection,
    private readonly quotas: QuotasService,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  private withMembers(group: ServerGroupState): GroupWithMembers {
    return { ...group, members: this.projection.membersOf(group.id) };
  }

  list(principal: Principal, allProjects: boolean, offset: number, limit: number): GroupWithMembers[] {
    const groups = this.directory
      .all()
      .filter((group) => allProjects || group.projectId === principal.projectId);
    return groups.slice(offset, offset + limit).map((group) => this.withMembers(group));
  }

  show(principal: Principal, id: string): GroupWithMembers {
    const group = this.directory.get(id.toLowerCase());
    if (!group || !canSeeProject(principal, group.projectId)) throw new ServerGroupNotFound(id);
    return this.withMembers(group);
  }

  /** The group a boot names in its hint; Nova answers 400 when it cannot be found. */
  resolveForBoot(principal: Principal, id: string): ServerGroupState {
    const group = this.directory.get(id);
    if (!group || !canSeeProject(principal, group.projectId))
      throw badRequest(`Instance group ${id} could not be found.`);
    return group;
  }

  async create(
    principal: Principal,
    name: string,
    policy: string,
    context: EventContext,
  ): Promise<GroupWithMembers> {
    if (policy !== 'affinity' && policy !== 'anti-affinity') {
      throw badRequest(
        `Server group policy ${policy} is not supported: Nimbus schedules affinity and anti-affinity only.`,
      );
    }
    const limit = this.quotas.limitsFor(principal.projectId).serverGroups;
    const owned = this.directory.all().filter((group) => group.projectId === principal.projectId).length;
    if (limit >= 0 && owned >= limit) throw new QuotaExceeded('Quota exceeded, too many server groups.');
    const serverGroupId = randomUUID();
    const { appended } = await this.store.execute(
      streamFor('servergroup', serverGroupId),
      serverGroupReducer,
      (state) =>
        decideCreateServerGroup(state, {
          serverGroupId,
          projectId: principal.projectId,
          userId: principal.userId,
          name,
          policy: policy satisfies ServerGroupPolicy,
        }),
      context,
    );
    await this.hub.waitFor(appended?.position);
    return this.show(principal, serverGroupId);
  }

  async delete(principal: Principal, id: string, context: EventContext): Promise<void> {
    const group = this.show(principal, id);
    const { appended } = await this.store.execute(
      streamFor('servergroup', group.id),
      serverGroupReducer,
      (state) => decideDeleteServerGroup(state, group.id),
      context,
    );
    await this.hub.waitFor(appended?.position);
  }
}
