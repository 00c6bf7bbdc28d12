/**
 * Errors of the event-store layer that callers act on: a decision that kept losing the race for a
 * stream, and an event read back from the store that breaks its contract.
 */
import { ContractViolation } from '#libs/contracts';

/** Every attempt met a newer revision than the one it decided on; the caller maps this to 409. */
export class ConcurrencyConflict extends Error {
  override readonly name = 'ConcurrencyConflict';
  constructor(
    readonly stream: string,
    readonly attempts: number,
  ) {
    super(`stream ${stream} changed under ${attempts} consecutive attempts; giving up`);
  }
}

/** A stored event that fails validation: loud, with where it sits, never skipped. */
export class StoredEventInvalid extends Error {
  override readonly name = 'StoredEventInvalid';
  constructor(
    readonly stream: string,
    readonly revision: bigint,
    readonly violation: ContractViolation | Error,
  ) {
    super(`event ${stream}@${revision} breaks its contract: ${violation.message}`);
  }
}
