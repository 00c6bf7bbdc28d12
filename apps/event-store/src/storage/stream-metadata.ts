/**
 * Reads the limits EventStoreDB defines in stream metadata (`$maxCount`, `$maxAge`, `$tb`) out of a
 * `$metadata` event body. Unknown keys are the user's business and are ignored here.
 * Never throws on bad user metadata: a body that is not a JSON object simply imposes no limits.
 */
import { NO_LIMITS, SOFT_DELETED_TRUNCATE_BEFORE, type StreamLimits } from './records.js';

/** Beyond 2^53 JSON numbers lose precision; anything that large can only mean Int64.MaxValue. */
const HUGE = 2 ** 62;

function toLimit(value: unknown): bigint | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return null;
  return value >= HUGE ? SOFT_DELETED_TRUNCATE_BEFORE : BigInt(value);
}

export function parseStreamLimits(body: Uint8Array): StreamLimits {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return NO_LIMITS;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return NO_LIMITS;
  const record = parsed as Record<string, unknown>;
  return {
    maxCount: toLimit(record.$maxCount),
    maxAgeSeconds: toLimit(record.$maxAge),
    truncateBefore: toLimit(record.$tb),
  };
}

/**
 * The body of the metadata event that soft-deletes a stream, or that records where a recreated
 * stream now begins: the previous metadata with `$tb` replaced. The number is written as text so
 * Int64.MaxValue keeps its exact digits.
 */
export function withTruncateBefore(previous: Uint8Array | null, truncateBefore: bigint): Uint8Array {
  let base: Record<string, unknown> = {};
  if (previous) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(previous).toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        base = parsed as Record<string, unknown>;
      }
    } catch {
      base = {};
    }
  }
  const { $tb: _dropped, ...rest } = base;
  const prefix = JSON.stringify(rest).slice(0, -1);
  const separator = prefix.length > 1 ? ',' : '';
  return Buffer.from(`${prefix}${separator}"$tb":${truncateBefore.toString()}}`, 'utf8');
}
