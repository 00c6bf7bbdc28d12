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

export const PROJECT_EVENTS = eventCatalog('project', { ProjectCreated });
