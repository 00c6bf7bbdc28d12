/**
 * One call to the API's audit feed (`GET /audit/v1/events`), read as JSON Lines as they arrive. It ends
 * `complete` when the server ended the body (the store's end for an export, the token's expiry for a
 * follow) and `cut` when the transfer broke, so the caller knows whether to come back.
 */
export interface FeedQuery {
  readonly since: string | null;
  readonly follow: boolean;
  readonly projectId?: string;
  readonly allProjects: boolean;
}

export type FeedEnd = { readonly kind: 'complete' } | { readonly kind: 'cut'; readonly reason: string };

export class FeedRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function feedUrl(apiUrl: string, query: FeedQuery): string {
  const params = new URLSearchParams();
  if (query.since !== null) params.set('since', query.since);
  params.set('follow', String(query.follow));
  if (query.projectId !== undefined) params.set('project_id', query.projectId);
  if (query.allProjects) params.set('all_projects', 'true');
  return `${apiUrl}/audit/v1/events?${params.toString()}`;
}

export async function readFeed(
  url: string,
  token: string,
  onEvent: (event: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<FeedEnd> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'X-Auth-Token': token, Accept: 'application/x-ndjson' },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    return { kind: 'cut', reason: (error as Error).message };
  }
  if (response.status !== 200) {
    const text = await response.text().catch(() => '');
    throw new FeedRefused(
      response.status,
      `${new URL(url).pathname} answered HTTP ${response.status}: ${messageOf(text)}`,
    );
  }
  if (!response.body) return { kind: 'complete' };
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        // Blank lines are the feed's heartbeats.
        if (line !== '') onEvent(JSON.parse(line) as Record<string, unknown>);
        newline = buffered.indexOf('\n');
      }
    }
  } catch (error) {
    return { kind: 'cut', reason: (error as Error).message };
  }
  return { kind: 'complete' };
}

/** The message of an OpenStack error body (`{"forbidden": {"message": ...}}`), else the text. */
export function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, { message?: string }>;
    const first = Object.values(body)[0];
    if (first?.message) return first.message;
  } catch {
    // Not JSON: show it as it came.
  }
  return text.slice(0, 200);
}
