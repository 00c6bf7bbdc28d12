/**
 * What `GET /servers` and `/servers/detail` ask of the projection, read from Nova's query parameters:
 * the project scope (`all_tenants` for admins), name, status, host (admins), `changes-since`, deleted,
 * image, flavor, the order (`sort_key`, `sort_dir`) and the page. Pure: no store, no clock; refusals are Nova's 400 and 403.
 */
import { isAdmin, type Principal } from '../../common/auth/principal.js';
import { badRequest, forbidden, policyForbids } from '../../common/http/api-error.js';
import type { Microversion } from '../../common/http/microversion.js';
import { truthy } from '../../common/validation/parameter-types.js';
import { queryText, queryTexts, queryTime } from '../../common/validation/query.js';
import { STATUS_FILTER_VALIDATED } from '../microversions.js';
import type { Page } from '../paging.js';
import type { ServerQuery } from './projection/server-projection.js';
import { serverSortOf } from './server-sort.js';

/** Nova's status filter values, mapped to what the projection stores. */
const STATUS_FILTERS = new Set([
  'ACTIVE',
  'BUILD',
  'SHUTOFF',
  'ERROR',
  'REBOOT',
  'HARD_REBOOT',
  'REBUILD',
  'RESIZE',
  'VERIFY_RESIZE',
  'REVERT_RESIZE',
  'DELETED',
]);
const KNOWN_STATUSES = new Set([
  ...STATUS_FILTERS,
  'PAUSED',
  'SUSPENDED',
  'RESCUE',
  'RESIZE',
  'VERIFY_RESIZE',
  'REVERT_RESIZE',
  'MIGRATING',
  'REBUILD',
  'PASSWORD',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'SOFT_DELETED',
  'UNKNOWN',
]);

export interface ListCall {
  readonly principal: Principal;
  readonly microversion: Microversion;
  /** `detail` names the policy rule of `all_tenants`. */
  readonly detail: boolean;
}

/** The projection query, or null when the filters can match nothing (Nova answers an empty list). */
export function serverQueryOf(
  call: ListCall,
  query: Readonly<Record<string, unknown>>,
  page: Page,
): ServerQuery | null {
  const { principal, microversion } = call;
  const text = (name: string): string | undefined => queryText(query, name);
  const allTenants =
    text('all_tenants') !== undefined && (text('all_tenants') === '' || truthy(text('all_tenants')));
  if (allTenants && !isAdmin(principal)) {
    throw policyForbids(`os_compute_api:servers:${call.detail ? 'detail' : 'index'}:get_all_tenants`);
  }
  // Nova drops the filters only admins may use from a member's query rather than refuse it.
  const host = isAdmin(principal) ? (text('host') ?? text('node')) : undefined;

  let statuses: string[] | undefined;
  const statusValues = queryTexts(query, 'status');
  if (statusValues.length > 0) {
    const upper = statusValues.map((value) => value.toUpperCase());
    if (upper.some((value) => !KNOWN_STATUSES.has(value))) {
      if (microversion.atLeast(STATUS_FILTER_VALIDATED)) throw badRequest('Invalid status value');
      return null;
    }
    if (upper.includes('DELETED') && !isAdmin(principal)) {
      throw forbidden('Only administrators may list deleted instances');
    }
    statuses = upper.filter((value) => STATUS_FILTERS.has(value));
    if (statuses.length === 0) return null;
  }

  const sinceMs = queryTime(query, 'changes-since');
  const since = sinceMs === undefined ? undefined : new Date(sinceMs).toISOString();
  const name = text('name');
  if (name !== undefined) {
    try {
      new RegExp(name, 'u');
    } catch {
      throw badRequest(`Invalid input for query parameters name. Value: ${name}. '${name}' is not a 'regex'`);
    }
  }
  const deletedParam = text('deleted');
  let deleted: boolean | null = since === undefined ? false : null;
  if (statuses?.includes('DELETED')) deleted = true;
  else if (deletedParam !== undefined && isAdmin(principal)) deleted = truthy(deletedParam);

  const tenant = text('tenant_id') ?? text('project_id');
  const projectId = allTenants ? (tenant ?? null) : principal.projectId;
  const image = text('image');
  const flavor = text('flavor');
  return {
    projectId,
    deleted,
    limit: page.limit,
    marker: page.marker,
    sort: serverSortOf(query, microversion, isAdmin(principal)),
    ...(name === undefined ? {} : { name }),
    ...(statuses === undefined ? {} : { statuses }),
    ...(host === undefined ? {} : { host }),
    ...(since === undefined ? {} : { changesSince: since }),
    ...(image === undefined ? {} : { imageId: image.split('/').at(-1) ?? image }),
    ...(flavor === undefined ? {} : { flavorId: flavor.split('/').at(-1) ?? flavor }),
  };
}
