/**
 * Nova's marker paging, written once: `limit` is a non-negative integer capped at the configured maximum
 * (osapi_max_limit), `marker` is the key of the last item of the previous page, and a page is the items
 * after the marker, at most `limit` of them. The next link is links.ts's `nextLink`.
 */
import { badRequest } from '../common/http/api-error.js';
import { queryText } from '../common/validation/query.js';

export interface Page {
  readonly limit: number;
  readonly marker: string | null;
}

export function pageOf(query: Readonly<Record<string, unknown>>, maxLimit: number): Page {
  const limitText = queryText(query, 'limit');
  let limit = maxLimit;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText.trim())) throw badRequest('limit param must be an integer');
    const parsed = Number(limitText);
    if (parsed < 0) throw badRequest('limit param must be positive');
    limit = Math.min(parsed, maxLimit);
  }
  const marker = queryText(query, 'marker') ?? null;
  return { limit, marker };
}

/**
 * The items after the marker (by `keyOf`), at most `limit`; `unknownMarker` words the 400 for a marker
 * that names no item, in the words of the resource's API.
 */
export function pageAfter<T>(
  items: readonly T[],
  page: Page,
  keyOf: (item: T) => string,
  unknownMarker: (marker: string) => string,
): T[] {
  let rest = items;
  if (page.marker !== null) {
    const { marker } = page;
    const index = items.findIndex((item) => keyOf(item) === marker);
    if (index < 0) throw badRequest(unknownMarker(marker));
    rest = items.slice(index + 1);
  }
  return rest.slice(0, page.limit);
}

/** Whether a page is full, so that Nova adds a next link (a limit of 0 never has one). */
export const isFullPage = (items: readonly unknown[], page: Pick<Page, 'limit'>): boolean =>
  page.limit > 0 && items.length === page.limit;
