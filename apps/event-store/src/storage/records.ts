/**
 * The storage vocabulary of the embedded event store: what a proposed event, a recorded event,
 * an expected revision and an append outcome are. Plain data only; no I/O and no gRPC here.
 */

/** The revision a tombstone occupies, as EventStoreDB writes it (Int64.MaxValue). */
export const TOMBSTONE_REVISION = 0x7fff_ffff_ffff_ffffn;

/** `$tb` set to this value marks a soft-deleted stream (EventStoreDB's convention). */
export const SOFT_DELETED_TRUNCATE_BEFORE = TOMBSTONE_REVISION;

export const METADATA_EVENT_TYPE = '$metadata';
export const TOMBSTONE_EVENT_TYPE = '$streamDeleted';

/** `$$<stream>` holds a stream's metadata, as in EventStoreDB. */
export const metastreamOf = (stream: string): string => `$$${stream}`;
export const isMetastream = (stream: string): boolean => stream.startsWith('$$');

export type ExpectedRevision =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'exact'; readonly revision: bigint };

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

export interface RecordedEvent {
  /** Position in the global log ($all); commit and prepare positions are both this value. */
  readonly position: bigint;
  readonly stream: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  /** 100-nanosecond ticks since the Unix epoch, the unit the client expects in `created`. */
  readonly created: bigint;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** What a stream looks like to an expected-revision check. `null` means "no stream". */
export type CurrentRevision = bigint | null;

export type AppendOutcome =
  | {
      readonly kind: 'success';
      /** The stream's revision after the append; null when an empty append met no stream. */
      readonly revision: CurrentRevision;
      readonly position: bigint | null;
    }
  | {
      readonly kind: 'wrong_expected_version';
      readonly expected: ExpectedRevision;
      readonly current: CurrentRevision;
    }
  | { readonly kind: 'stream_deleted' };

export type DeleteOutcome =
  | { readonly kind: 'success'; readonly position: bigint | null }
  | {
      readonly kind: 'wrong_expected_version';
      readonly expected: ExpectedRevision;
      readonly current: CurrentRevision;
    }
  | { readonly kind: 'stream_deleted' };

export type ReadDirection = 'forwards' | 'backwards';

/** Stream metadata the store enforces on reads; anything else in `$$stream` is kept verbatim. */
export interface StreamLimits {
  readonly maxCount: bigint | null;
  readonly maxAgeSeconds: bigint | null;
  readonly truncateBefore: bigint | null;
}

export const NO_LIMITS: StreamLimits = { maxCount: null, maxAgeSeconds: null, truncateBefore: null };

export const ticksFromMs = (ms: number): bigint => BigInt(ms) * 10_000n;

export function describeExpected(expected: ExpectedRevision): string {
  return expected.kind === 'exact' ? expected.revision.toString() : expected.kind;
}
