/**
 * Nova's sorting of server lists, read from `sort_key` and `sort_dir` (each may repeat): every key must
 * be one Nova knows (400 otherwise), the keys Nova disabled are dropped with their direction, as are
 * `host` and `node` for non-admins; a key without a direction takes the first one given (else desc),
 * more directions than keys is a 400, and `created_at` then the id end every sort so that pages are
 * stable. Keys whose values the server table keeps are sorted on; the others Nova knows are dropped
 * like the disabled ones. Pure.
 */
import { badRequest } from '../../common/http/api-error.js';
import type { Microversion } from '../../common/http/microversion.js';
import { queryTexts } from '../../common/validation/query.js';
import { LOCKED_REASON } from '../microversions.js';

/** The server table's columns a list can be sorted on. */
export const SORT_COLUMNS = [
  'created_at',
  'updated_at',
  'name',
  'id',
  'host',
  'image_id',
  'flavor_id',
  'project_id',
  'user_id',
  'status',
] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export interface SortKey {
  readonly column: SortColumn;
  readonly descending: boolean;
}

/** Nova's sort keys that the table holds, and the column each sorts on. */
const COLUMNS: Readonly<Record<string, SortColumn>> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  display_name: 'name',
  uuid: 'id',
  host: 'host',
  node: 'host',
  image_ref: 'image_id',
  instance_type_id: 'flavor_id',
  project_id: 'project_id',
  user_id: 'user_id',
  vm_state: 'status',
};

/** Keys Nova still accepts but ignores, having disabled them (`locked` became a key at 2.73). */
const IGNORED = [
  'architecture',
  'cell_name',
  'cleaned',
  'default_ephemeral_device',
  'default_swap_device',
  'deleted',
  'deleted_at',
  'disable_terminate',
  'ephemeral_gb',
  'ephemeral_key_uuid',
  'id',
  'key_data',
  'launched_on',
  'locked',
  'memory_mb',
  'os_type',
  'reservation_id',
  'root_gb',
  'shutdown_terminate',
  'user_data',
  'vcpus',
  'vm_mode',
];

const VALID = new Set([
  'access_ip_v4',
  'access_ip_v6',
  'auto_disk_config',
  'availability_zone',
  'config_drive',
  'created_at',
  'display_description',
  'display_name',
  'host',
  'hostname',
  'image_ref',
  'instance_type_id',
  'kernel_id',
  'key_name',
  'launch_index',
  'launched_at',
  'locked_by',
  'node',
  'power_state',
  'progress',
  'project_id',
  'ramdisk_id',
  'root_device_name',
  'task_state',
  'terminated_at',
  'updated_at',
  'user_id',
  'uuid',
  'vm_state',
  ...IGNORED,
]);

/** Nova's default order, and the tail of every other: newest first, the id breaking ties. */
export const DEFAULT_SORT: readonly SortKey[] = [
  { column: 'created_at', descending: true },
  { column: 'id', descending: true },
];

export function serverSortOf(
  query: Readonly<Record<string, unknown>>,
  microversion: Microversion,
  admin: boolean,
): SortKey[] {
  const keys = queryTexts(query, 'sort_key');
  const dirs = queryTexts(query, 'sort_dir');
  for (const key of keys)
    if (!VALID.has(key))
      throw badRequest(`Invalid input for query parameters sort_key. Value: ${key.slice(0, 64)}.`);
  for (const dir of dirs)
    if (dir !== 'asc' && dir !== 'desc')
      throw badRequest(`Invalid input for query parameters sort_dir. Value: ${dir.slice(0, 64)}.`);

  if (dirs.length > keys.length)
    throw badRequest('Invalid input received: Sort direction size exceeds sort key size');
  // Dropped keys take their direction with them, as Nova's remove_invalid_sort_keys does.
  const ignored = new Set(
    microversion.atLeast(LOCKED_REASON) ? IGNORED.filter((key) => key !== 'locked') : IGNORED,
  );
  const kept = keys.flatMap((key, index) =>
    ignored.has(key) || (!admin && (key === 'host' || key === 'node')) ? [] : [{ key, dir: dirs[index] }],
  );

  const fallback = dirs[0] ?? 'desc';
  const sort: SortKey[] = [];
  const add = (column: SortColumn, descending: boolean) => {
    if (!sort.some((key) => key.column === column)) sort.push({ column, descending });
  };
  for (const { key, dir } of kept) {
    const column = COLUMNS[key];
    if (column !== undefined) add(column, (dir ?? fallback) === 'desc');
  }
  for (const { column } of DEFAULT_SORT) add(column, fallback === 'desc');
  return sort;
}
