/**
 * Store positions as the audit feed and the watch name them: the `$all` commit position in decimal, and
 * `<commit>:<prepare>` where a store gives an event a prepare position of its own (the embedded store never
 * does; an EventStoreDB cluster may). A position names the event a subscriber last received, so resuming
 * "after" it is exact.
 */

export interface FeedPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

const POSITION = /^(\d{1,20})(?::(\d{1,20}))?$/;

export function formatPosition(position: FeedPosition): string {
  return position.commit === position.prepare
    ? position.commit.toString()
    : `${position.commit}:${position.prepare}`;
}

/** The position a text names, or null when it names none. */
export function parsePosition(text: string): FeedPosition | null {
  const match = POSITION.exec(text);
  if (!match?.[1]) return null;
  const commit = BigInt(match[1]);
  const prepare = match[2] === undefined ? commit : BigInt(match[2]);
  return prepare > commit ? null : { commit, prepare };
}

/** Store order: negative when `a` comes first. */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/**
 * The CloudEvents `sequence` of a position: fixed-width decimal, so comparing two sequences as strings
 * (as the sequence extension says a consumer may) gives store order.
 */
export function sequenceOf(position: FeedPosition): string {
  const commit = position.commit.toString().padStart(20, '0');
  return position.commit === position.prepare
    ? commit
    : `${commit}:${position.prepare.toString().padStart(20, '0')}`;
}

/** Where a feed starts: from the first event, after a position, or at the first event at or after a time. */
export type FeedStart =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'after'; readonly position: FeedPosition }
  | { readonly kind: 'time'; readonly time: Date };

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** `beginning`, a position, or an RFC 3339 time; null when the text is none of them. */
export function parseFeedStart(text: string | undefined): FeedStart | null {
  if (text === undefined || text === '' || text === 'beginning') return { kind: 'beginning' };
  const position = parsePosition(text);
  if (position) return { kind: 'after', position };
  if (!RFC3339.test(text)) return null;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? null : { kind: 'time', time };
}

/** A durable audit subscription's name: one NATS subject token, so its consumer name stays one too. */
export const SUBSCRIPTION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
