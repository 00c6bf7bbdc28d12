/**
 * Events of the `project-<id>` stream: a Keystone project (tenant) as the API's identity subset knows it.
 * Every server, image and key quota belongs to one. Project ids are derived from the domain and name, so
 * creating the same project twice meets its own stream and cannot make a second one.
 * Must never carry a secret: projects have none.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsDisplayName, IsKeystoneId, IsText, Nullable } from '../validation.js';

@DomainEvent({ type: 'ProjectCreated', version: 1, category: 'project' })
export class ProjectCreated {
  @IsKeystoneId()
  readonly projectId!: string;

  /** Unique within its domain, as in Keystone. */
  @IsDisplayName(64)
  readonly name!: string;

  /** Keystone's domain id; Nimbus knows only `default`. */
  @IsKeystoneId()
  readonly domainId!: string;

  @Nullable()
  @IsText(0, 255)
  readonly description!: string | null;
}

/** An admin disabled the project: no token is scoped to it until it is enabled again. */
@DomainEvent({ type: 'ProjectDisabled', version: 1, category: 'project' })
export class ProjectDisabled {
  @IsKeystoneId()
  readonly projectId!: string;
}

@DomainEvent({ type: 'ProjectEnabled', version: 1, category: 'project' })
export class ProjectEnabled {
  @IsKeystoneId()
  readonly projectId!: string;
}

/** An admin deleted the project; its name may be used again, by a new project in the same stream. */
@DomainEvent({ type: 'ProjectDeleted', version: 1, category: 'project' })
export class ProjectDeleted {
  @IsKeystoneId()
  readonly projectId!: string;
}

export const PROJECT_EVENTS = eventCatalog('project', {
  ProjectCreated,
  ProjectDisabled,
  ProjectEnabled,
  ProjectDeleted,
});
