/**
 * Domain errors: what a decision refuses and why, with a code the API and RPC layers map to their
 * wire shapes in one place each (404 itemNotFound, 409 conflictingRequest, ...). No HTTP here.
 */
export type DomainErrorCode =
  'NotFound' | 'Conflict' | 'NoValidHost' | 'BadRequest' | 'Forbidden' | 'OverLimit';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
}

export class InstanceNotFound extends DomainError {
  override readonly name = 'InstanceNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly instanceId: string) {
    super(`Instance ${instanceId} could not be found.`);
  }
}

/** Nova's InstanceInvalidState: the action does not fit the server's vm_state or task_state. */
export class ConflictingState extends DomainError {
  override readonly name = 'ConflictingState';
  readonly code = 'Conflict' as const;
}

export class HostNotFound extends DomainError {
  override readonly name = 'HostNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly host: string) {
    super(`Compute host ${host} could not be found.`);
  }
}

/** The scheduler found no host; the message names the filters that emptied the list. */
export class NoValidHost extends DomainError {
  override readonly name = 'NoValidHost';
  readonly code = 'NoValidHost' as const;
  constructor(reason: string) {
    super(`No valid host was found. ${reason}`);
  }
}
