/**
 * The timestamp spellings OpenStack APIs use, from the ISO instants events carry:
 * Nova's `created` ("2026-11-22T00:31:58Z"), its `launched_at` and action times
 * ("2026-11-22T00:31:59.000000", naive UTC), Keystone's token times ("2026-11-23T00:31:52.000000Z").
 * Both store whole seconds (Nova's DATETIME columns, Keystone's Fernet payload), so the fraction is zero.
 */
const micro = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19)}.000000`;

/** `2026-11-22T00:31:58Z` */
export const isoSeconds = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19)}Z`;

/** `2026-11-22T00:31:59.000000` (naive UTC, as Nova prints datetimes without a zone) */
export const naiveMicros = (iso: string): string => micro(iso);

/** `2026-11-23T00:31:52.000000Z` */
export const keystoneTime = (iso: string): string => `${micro(iso)}Z`;
