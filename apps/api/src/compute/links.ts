/**
 * Nova's links: `self` under `/v2.1`, `bookmark` without the version, and the `next` link of a page,
 * which repeats the request's query with the marker replaced.
 */
export interface Link {
  readonly rel: string;
  readonly href: string;
}

export function resourceLinks(base: string, collection: string, id: string): Link[] {
  const encoded = encodeURIComponent(id);
  return [
    { rel: 'self', href: `${base}/v2.1/${collection}/${encoded}` },
    { rel: 'bookmark', href: `${base}/${collection}/${encoded}` },
  ];
}

export function bookmarkLink(base: string, collection: string, id: string): Link[] {
  return [{ rel: 'bookmark', href: `${base}/${collection}/${encodeURIComponent(id)}` }];
}

/** The next-page link Nova adds when a page is full (`<collection>_links`). */
export function nextLink(
  base: string,
  collection: string,
  query: Readonly<Record<string, unknown>>,
  marker: string,
): Link[] {
  const params = new URLSearchParams();
  let placed = false;
  for (const [key, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item !== 'string') continue;
      if (key === 'marker') {
        if (!placed) params.append('marker', marker);
        placed = true;
      } else params.append(key, item);
    }
  }
  if (!placed) params.append('marker', marker);
  return [{ rel: 'next', href: `${base}/v2.1/${collection}?${params.toString()}` }];
}

/**
 * The links entry of a page (`servers_links`, `flavors_links`, ...): the next link when the page is full
 * (`limit` items, a limit of 0 never), keyed by the last item, and nothing otherwise.
 */
export function pageLinks<T>(
  key: string,
  page: {
    readonly base: string;
    readonly collection: string;
    readonly query: Readonly<Record<string, unknown>>;
  },
  items: readonly T[],
  limit: number,
  keyOf: (item: T) => string,
): Record<string, Link[]> {
  const last = items.at(-1);
  if (last === undefined || limit <= 0 || items.length !== limit) return {};
  return { [key]: nextLink(page.base, page.collection, page.query, keyOf(last)) };
}
