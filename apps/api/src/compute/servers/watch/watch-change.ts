/**
 * What one instance event means to a watcher of servers, Kubernetes' way: the server appeared (ADDED),
 * changed (MODIFIED) or went (DELETED); nothing when the event left the record as it was or concerns a
 * server already gone. Pure: the record before and after the event are given.
 */
import type { ServerRecord } from '../server-record.js';

export type WatchChange = 'ADDED' | 'MODIFIED' | 'DELETED';

const shown = (record: ServerRecord): boolean =>
  record.instance.exists && record.instance.boot !== null && record.instance.vmState !== 'deleted';

export function watchChange(before: ServerRecord, after: ServerRecord): WatchChange | null {
  if (after === before) return null;
  const was = shown(before);
  const is = shown(after);
  if (!was) return is ? 'ADDED' : null;
  return is ? 'MODIFIED' : 'DELETED';
}
