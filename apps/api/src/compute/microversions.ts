/**
 * The compute microversions whose changes this API honours, as data: one named constant per change, with
 * the version that brought it and what it changed, and the history they make (docs/api-microversions.md,
 * kept true by microversions.spec.ts). Code asks `version.atLeast(KEYPAIR_TYPE)` rather than comparing
 * with a literal, and routes that exist only in a range of versions say so with `@Microversions`.
 * Must never name a version above MAX_MICROVERSION: the API would claim behaviour it cannot be asked for.
 */
import type { VersionChange } from '../common/http/microversion.js';

const change = (version: VersionChange['version'], changed: string): VersionChange => ({ version, changed });

export const KEYPAIR_TYPE = change(
  '2.2',
  'Key pairs have a `type` (`ssh` or `x509`); creating one answers 201 and deleting one 204.',
);
export const EXTENDED_SERVER_ATTRIBUTES = change(
  '2.3',
  'Admins see more `OS-EXT-SRV-ATTR:` fields of a server (reservation id, launch index, hostname, kernel, ramdisk, root device, user data).',
);
export const REMOTE_CONSOLES = change(
  '2.6',
  '`POST /servers/{id}/remote-consoles` replaces the `os-getVNCConsole` action.',
);
export const WEBMKS_CONSOLES = change('2.8', 'Remote consoles accept the `mks` protocol and `webmks` type.');
export const SERVER_LOCKED = change('2.9', 'Servers show `locked`.');
export const KEYPAIRS_OF_OTHER_USERS = change(
  '2.10',
  'Admins may name another user’s key pairs with `user_id`.',
);
export const SERVICE_FORCED_DOWN = change('2.11', 'Services show `forced_down`.');
export const SERVER_GROUP_OWNERS = change('2.13', 'Server groups show `project_id` and `user_id`.');
export const SOFT_GROUP_POLICIES = change(
  '2.15',
  'Server group policies `soft-affinity` and `soft-anti-affinity` are accepted by the schema.',
);
export const SERVER_HOST_STATUS = change('2.16', 'Admins see a server’s `host_status`.');
export const SERVER_DESCRIPTION = change(
  '2.19',
  'Servers have a `description` (before it, the name is stored as the description).',
);
export const DELETED_SERVER_ACTIONS = change(
  '2.21',
  'The instance actions of a deleted server stay readable.',
);
export const SERVER_TAGS = change('2.26', 'Servers show `tags`.');
export const CPU_INFO_OBJECT = change('2.28', 'A hypervisor’s `cpu_info` is an object, not a JSON string.');
export const NETWORK_DEVICE_TAGS = change(
  '2.32',
  'A requested network may carry a device `tag` (until 2.36).',
);
export const KEYPAIR_PAGING = change('2.35', 'Key pairs are paged with `limit` and `marker`.');
export const PROXY_APIS_REMOVED = change(
  '2.36',
  'The `/images` proxy is gone (404), and network quotas and limits are no longer shown.',
);
export const NETWORKS_REQUIRED = change(
  '2.37',
  'A boot must name `networks` (a list, `none` or `auto`); network ids must be UUIDs; device tags are refused again.',
);
export const STATUS_FILTER_VALIDATED = change(
  '2.38',
  'An unknown `status` filter is a 400, not an empty list.',
);
export const IMAGE_META_LIMIT_REMOVED = change('2.39', 'Limits no longer show `maxImageMeta`.');
export const USAGE_PAGING = change(
  '2.40',
  'Simple tenant usage is paged by server with `limit` and `marker`, with a next link on a full page.',
);
export const NETWORK_DEVICE_TAGS_RESTORED = change(
  '2.42',
  'A requested network may carry a device `tag` again.',
);
export const IMAGE_ID_IN_BODY = change(
  '2.45',
  '`createImage` answers with `image_id` in the body instead of a `Location` header.',
);
export const FLAVOR_IN_SERVER = change('2.47', 'A server shows its flavor’s values instead of a link to it.');
export const ACTION_EVENTS_FOR_ALL = change('2.51', 'Non-admins see the events of an instance action.');
export const SERVER_TAGS_ON_CREATE = change('2.52', 'A boot may carry `tags`.');
export const SERVICE_UUIDS = change(
  '2.53',
  'Services and hypervisors are identified by UUIDs; a service is updated with `PUT /os-services/{id}`.',
);
export const FLAVOR_DESCRIPTION = change('2.55', 'Flavors have a `description`.');
export const PERSONALITY_REMOVED = change(
  '2.57',
  'A boot may no longer carry `personality` files; their quotas and limits are no longer shown.',
);
export const ACTION_PAGING = change(
  '2.58',
  'Instance actions are paged with `limit`, `marker` and `changes-since`, and show `updated_at`.',
);
export const FLAVOR_EXTRA_SPECS = change('2.61', 'Flavors show `extra_specs`.');
export const ACTION_EVENT_HOST = change(
  '2.62',
  'Instance action events show `hostId` (and `host` to admins).',
);
export const TRUSTED_CERTIFICATES = change(
  '2.63',
  'A boot may carry `trusted_image_certificates`; servers show them.',
);
export const GROUP_POLICY = change(
  '2.64',
  'A server group has one `policy` and `rules` instead of a `policies` list.',
);
export const ACTION_CHANGES_BEFORE = change(
  '2.66',
  'Instance actions may be filtered with `changes-before`.',
);
export const INTERFACE_TAGS = change('2.70', 'Interface attachments show their device `tag`.');
export const SERVER_GROUPS_IN_SERVER = change('2.71', 'A server shows its `server_groups`.');
export const LOCKED_REASON = change('2.73', 'Servers show `locked_reason`.');
export const REQUESTED_HOST = change('2.74', 'Admins may name a `host` or `hypervisor_hostname` to boot on.');
export const FULL_UPDATE_RESPONSE = change(
  '2.75',
  'Updating a server answers the full server; a flavor’s `swap` of 0 is 0, not an empty string.',
);
export const ACTION_EVENT_DETAILS = change('2.84', 'Instance action events show `details`.');
export const HYPERVISOR_FIELDS_REMOVED = change(
  '2.88',
  'Hypervisors no longer show inventory and usage fields; they show `uptime`.',
);
export const SERVER_HOSTNAME = change(
  '2.90',
  'A boot may name the `hostname`; non-admins see `OS-EXT-SRV-ATTR:hostname`.',
);
export const KEYPAIR_IMPORT_ONLY = change(
  '2.92',
  'Key pairs are imported only (`public_key` required) and their names may hold `@` and `.`.',
);

/** Every change above, oldest first: the version history the docs show. */
export const VERSION_HISTORY: readonly VersionChange[] = [
  KEYPAIR_TYPE,
  EXTENDED_SERVER_ATTRIBUTES,
  REMOTE_CONSOLES,
  WEBMKS_CONSOLES,
  SERVER_LOCKED,
  KEYPAIRS_OF_OTHER_USERS,
  SERVICE_FORCED_DOWN,
  SERVER_GROUP_OWNERS,
  SOFT_GROUP_POLICIES,
  SERVER_HOST_STATUS,
  SERVER_DESCRIPTION,
  DELETED_SERVER_ACTIONS,
  SERVER_TAGS,
  CPU_INFO_OBJECT,
  NETWORK_DEVICE_TAGS,
  KEYPAIR_PAGING,
  PROXY_APIS_REMOVED,
  NETWORKS_REQUIRED,
  STATUS_FILTER_VALIDATED,
  IMAGE_META_LIMIT_REMOVED,
  USAGE_PAGING,
  NETWORK_DEVICE_TAGS_RESTORED,
  IMAGE_ID_IN_BODY,
  FLAVOR_IN_SERVER,
  ACTION_EVENTS_FOR_ALL,
  SERVER_TAGS_ON_CREATE,
  SERVICE_UUIDS,
  FLAVOR_DESCRIPTION,
  PERSONALITY_REMOVED,
  ACTION_PAGING,
  FLAVOR_EXTRA_SPECS,
  ACTION_EVENT_HOST,
  TRUSTED_CERTIFICATES,
  GROUP_POLICY,
  ACTION_CHANGES_BEFORE,
  INTERFACE_TAGS,
  SERVER_GROUPS_IN_SERVER,
  LOCKED_REASON,
  REQUESTED_HOST,
  FULL_UPDATE_RESPONSE,
  ACTION_EVENT_DETAILS,
  HYPERVISOR_FIELDS_REMOVED,
  SERVER_HOSTNAME,
  KEYPAIR_IMPORT_ONLY,
];
