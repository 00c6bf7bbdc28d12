/**
 * Nova's `limit` and `marker` query parameters: a limit is a non-negative integer, capped at the configured
 * maximum (osapi_max_limit); a marker is the id of the last item of the previous page.
 */
import { badRequest } from '../common/http/api-error.js';

export interface Page {
  readonly limit: number;
  readonly marker: string | null;
}

function single(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function pageOf(query: Readonly<Record<string, unknown>>, maxLimit: number): Page {
  const limitText = single(query['limit']);
  let limit = maxLimit;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText.trim())) throw badRequest('limit param must be an integer');
    const parsed = Number(limitText);
    if (parsed < 0) throw badRequest('limit param must be positive');
    limit = Math.min(parsed, maxLimit);
  }
  const marker = single(query['marker']) ?? null;
  return { limit, marker };
}

export function queryText(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  return single(query[name]);
}
