/**
 * Events of the `servergroup-<uuid>` stream: a server group and its policy. Membership is not recorded
 * here: a server joins by naming the group at boot (BootRequested's `serverGroup`), so members are read
 * from the instances.
 * Must never accept a policy the scheduler has no filter for.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsDisplayName, IsKeystoneId, IsLowercaseUuid, IsOneOf } from '../validation.js';
import { SERVER_GROUP_POLICIES, type ServerGroupPolicy } from '../vocabulary.js';

@DomainEvent({ type: 'ServerGroupCreated', version: 1, category: 'servergroup' })
export class ServerGroupCreated {
  @IsLowercaseUuid()
  readonly serverGroupId!: string;

  /** The owning project and user, as Nova's group `project_id` and `user_id`. */
  @IsKeystoneId()
  readonly projectId!: string;

  @IsKeystoneId()
  readonly userId!: string;

  @IsDisplayName()
  readonly name!: string;

  @IsOneOf(SERVER_GROUP_POLICIES)
  readonly policy!: ServerGroupPolicy;
}

@DomainEvent({ type: 'ServerGroupDeleted', version: 1, category: 'servergroup' })
export class ServerGroupDeleted {
  @IsLowercaseUuid()
  readonly serverGroupId!: string;
}

export const SERVERGROUP_EVENTS = eventCatalog('servergroup', { ServerGroupCreated, ServerGroupDeleted });
