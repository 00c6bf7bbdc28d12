/**
 * Events of the `role-<id>` stream: a role an admin made (`POST /v3/roles`). The built-in roles (admin,
 * member, reader, service) have no stream: they always exist. Role ids are derived from the name, so
 * making the same role twice meets its own stream.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsKeystoneId, IsText, Nullable } from '../validation.js';
import { IsRoleName } from './user.events.js';

@DomainEvent({ type: 'RoleCreated', version: 1, category: 'role' })
export class RoleCreated {
  @IsKeystoneId()
  readonly roleId!: string;

  @IsRoleName()
  readonly name!: string;

  @Nullable()
  @IsText(0, 255)
  readonly description!: string | null;
}

/** An admin deleted the role, after taking it from every user who held it. */
@DomainEvent({ type: 'RoleDeleted', version: 1, category: 'role' })
export class RoleDeleted {
  @IsKeystoneId()
  readonly roleId!: string;
}

export const ROLE_EVENTS = eventCatalog('role', { RoleCreated, RoleDeleted });
