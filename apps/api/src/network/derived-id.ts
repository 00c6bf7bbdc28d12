/**
 * Ids derived from a name rather than drawn at random, for what must exist once however many requests or
 * replicas race to make it (a project's `default` security group, the external network): they all
 * compute the same id, meet on one stream, and the stream's expected revision lets one of them through.
 */
import { createHash } from 'node:crypto';

/** A UUID in version 5's layout from the SHA-256 of the space and the name. */
export function derivedId(space: string, name: string): string {
  const hex = createHash('sha256').update(`${space}\u0000${name}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
