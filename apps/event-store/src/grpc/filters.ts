/**
 * Server-side `$all` filters: by stream name or event type, by prefixes or a regular expression,
 * and the checkpoint interval that lets a filtered consumer advance even when nothing matches.
 */
import type { RecordedEvent } from '../storage/records.js';
import { streamsPb } from './protocol.js';

export interface EventFilter {
  matches(record: RecordedEvent): boolean;
  /** Scanned events between two checkpoints. */
  readonly checkpointEvery: number;
}

/** EventStoreDB's default search window when the client asks for "count" instead of a maximum. */
const DEFAULT_WINDOW = 32;

export class FilterError extends Error {
  override readonly name = 'FilterError';
}

export function filterFrom(options: streamsPb.ReadReq.Options): EventFilter | null {
  if (!options.hasFilter()) return null;
  const filter = options.getFilter();
  if (!filter) return null;
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression) throw new FilterError('a filter needs a stream identifier or an event type expression');

  const prefixes = expression.getPrefixList();
  const regexSource = expression.getRegex();
  let regex: RegExp | null = null;
  if (regexSource) {
    try {
      regex = new RegExp(regexSource);
    } catch (error) {
      throw new FilterError(
        `invalid filter regex ${JSON.stringify(regexSource)}: ${(error as Error).message}`,
      );
    }
  }
  const field = (record: RecordedEvent): string => (onStream ? record.stream : record.type);
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_WINDOW;
  const multiplier = filter.getCheckpointintervalmultiplier() || 1;
  return {
    checkpointEvery: Math.max(1, window * multiplier),
    matches(record: RecordedEvent): boolean {
      const value = field(record);
      if (regex && !regex.test(value)) return false;
      if (prefixes.length > 0 && !prefixes.some((prefix) => value.startsWith(prefix))) return false;
      return true;
    },
  };
}
