/**
 * What a subscriber makes of each event it receives, from the feed's own links: every event names the
 * position the feed was at before it (`previousposition`), so a subscriber that remembers the last
 * position it kept knows whether it missed something or is being sent something again.
 */
import { type FeedPosition, comparePositions, formatPosition } from './position.js';

export type Arrival =
  | { readonly kind: 'next' }
  /** At or before what was already kept: drop it. */
  | { readonly kind: 'duplicate' }
  /** Something between `after` and this event may be missing. */
  | { readonly kind: 'gap'; readonly after: string | null; readonly claimed: string | null };

/**
 * `from` is the last position kept (null: nothing yet, from the store's beginning); `unknown` when the
 * feed starts at a time, so the first arrival sets the start.
 */
export class GapDetector {
  private last: FeedPosition | null;
  private unknownStart: boolean;

  constructor(from: FeedPosition | null | 'unknown') {
    this.unknownStart = from === 'unknown';
    this.last = from === 'unknown' ? null : from;
  }

  lastPosition(): FeedPosition | null {
    return this.last;
  }

  /** Judges one arrival and, unless it is a duplicate, takes its position as the last one kept. */
  arrive(position: FeedPosition, previous: FeedPosition | null): Arrival {
    const last = this.last;
    if (last !== null && comparePositions(position, last) <= 0) return { kind: 'duplicate' };
    this.last = position;
    if (this.unknownStart) {
      this.unknownStart = false;
      return { kind: 'next' };
    }
    const linked =
      previous === null ? last === null : last !== null && comparePositions(previous, last) === 0;
    if (linked) return { kind: 'next' };
    return {
      kind: 'gap',
      after: last === null ? null : formatPosition(last),
      claimed: previous === null ? null : formatPosition(previous),
    };
  }
}
