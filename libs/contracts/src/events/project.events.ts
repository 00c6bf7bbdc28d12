/**
 * Events of the `project-<id>` stream: a Keystone project (tenant) as the API's identity subset knows it.
 * Every server, image and key quota belongs to one. A project's id is derived from its domain and the
 * name it is created with, so creating the same project twice meets its own stream; a name a renamed
 * project left behind gets a random id when it is used again.
 * Must never carry a secret: projects have none.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { ArrayMaxSize, ArrayUnique, IsArray, Matches } from 'class-validator';

import { IsDisplayName, IsKeystoneId, IsText, Nullable, Optional, compose } from '../validation.js';

/** Keystone's tag rules: up to 255 characters, neither `/` nor `,`, at most 80 to a project. */
export const PROJECT_TAG_PATTERN = /^[^/,]{1,255}$/;
export const MAX_PROJECT_TAGS = 80;

function IsProjectTags(): PropertyDecorator {
  return compose(
    IsArray({ message: '$property must be an array of tags' }),
    ArrayMaxSize(MAX_PROJECT_TAGS, { message: `$property must hold at most ${MAX_PROJECT_TAGS} tags` }),
    ArrayUnique({ message: '$property must not repeat a tag' }),
    Matches(PROJECT_TAG_PATTERN, {
      each: true,
      message: 'each value in $property must be 1-255 characters with neither "/" nor ","',
    }),
  );
}

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

/**
 * An admin renamed the project or changed its description or its tags (`PATCH`, or the tags routes).
 * Each field is there only when it changed, and the tags are the whole list after the change.
 */
@DomainEvent({ type: 'ProjectUpdated', version: 1, category: 'project' })
export class ProjectUpdated {
  @IsKeystoneId()
  readonly projectId!: string;

  /** Unique within its domain: the API checks the name is free before it renames. */
  @Optional()
  @IsDisplayName(64)
  readonly name?: string;

  @Optional()
  @Nullable()
  @IsText(0, 255)
  readonly description?: string | null;

  @Optional()
  @IsProjectTags()
  readonly tags?: readonly string[];
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
  ProjectUpdated,
  ProjectDisabled,
  ProjectEnabled,
  ProjectDeleted,
});
