/**
 * Nova's server documents, field for field and in Nova's order, for a folded instance and a microversion:
 * the detailed view (show, list detail, and from 2.75 the update response), the reduced view the update
 * answers with before 2.75, and the basic list entry. Admin-only attributes (`OS-EXT-SRV-ATTR:*`,
 * `host_status`, fault details of a 500) appear only for admins, as Nova's default policy has it.
 * Pure: everything it needs is passed in.
 */
import { createHash } from 'node:crypto';

import { type NetworkInterface, POWER_STATE_CODES, serverStatus } from '#libs/domain';

import type { Microversion } from '../../common/http/microversion.js';
import { isoSeconds, naiveMicros } from '../../common/http/timestamps.js';
import type { HostStatus } from '../hosts/host-registry.js';
import { bookmarkLink, resourceLinks } from '../links.js';
import type { ServerRecord } from './server-record.js';
import {
  EXTENDED_SERVER_ATTRIBUTES,
  FLAVOR_IN_SERVER,
  LOCKED_REASON,
  SERVER_DESCRIPTION,
  SERVER_GROUPS_IN_SERVER,
  SERVER_HOSTNAME,
  SERVER_HOST_STATUS,
  SERVER_LOCKED,
  SERVER_TAGS,
  TRUSTED_CERTIFICATES,
} from '../microversions.js';

export interface ViewContext {
  readonly baseUrl: string;
  readonly microversion: Microversion;
  readonly isAdmin: boolean;
  /** The zone of the host a server is on. */
  readonly zoneOf: (host: string) => string;
  readonly hostStatus: (host: string | null) => HostStatus;
  /** The name of a network, which labels a server's addresses on it. */
  readonly networkName: (networkId: string) => string;
  /** The floating IPs that lead to a port's fixed address now. */
  readonly floatingIpsOf: (portId: string, fixedIp: string) => readonly string[];
}

export interface DetailOptions {
  /** false: the update response before 2.75, without zone, key, usage, extended attributes and states. */
  readonly full: boolean;
  /** `GET /servers/{id}` (and update) from 2.71 show `server_groups`; list detail never does. */
  readonly serverGroups: boolean;
  /** Show puts `host_status` among the attributes; list detail appends it last, as Nova does. */
  readonly hostStatusLast: boolean;
}

/**
 * Nova's `addresses`: each NIC's fixed addresses under its network's name, in the order the NICs were
 * attached, with the IP version, type and MAC; each followed by the floating IPs that lead to it.
 */
export function addressesOf(
  interfaces: readonly NetworkInterface[],
  view: Pick<ViewContext, 'networkName' | 'floatingIpsOf'>,
): Record<string, unknown[]> {
  const addresses: Record<string, unknown[]> = {};
  for (const nic of interfaces) {
    const label = view.networkName(nic.networkId);
    const entry = (addr: string, type: 'fixed' | 'floating'): Record<string, unknown> => ({
      version: addr.includes(':') ? 6 : 4,
      addr,
      'OS-EXT-IPS:type': type,
      'OS-EXT-IPS-MAC:mac_addr': nic.macAddress,
    });
    const entries = nic.fixedIps.flatMap(({ ipAddress }) => [
      entry(ipAddress, 'fixed'),
      ...view.floatingIpsOf(nic.portId, ipAddress).map((floating) => entry(floating, 'floating')),
    ]);
    addresses[label] = [...(addresses[label] ?? []), ...entries];
  }
  return addresses;
}

/** Nova's hostId: an obfuscated host, stable per project (sha224 of project id and host name). */
export function hostIdOf(projectId: string, host: string | null): string {
  return host
    ? createHash('sha224')
        .update(projectId + host)
        .digest('hex')
    : '';
}

/** Nova's hostname from a display name: RFC 952/1123 characters, lower case, at most 63 long. */
export function sanitizeHostname(name: string): string {
  const latin1 = name.replace(/[^\u0000-\u00ff]/gu, '');
  const cleaned = latin1
    .slice(0, 63)
    .replace(/[ _.]/g, '-')
    .replace(/[^\p{L}\p{N}_.-]+/gu, '')
    .toLowerCase()
    .replace(/^[.-]+|[.-]+$/g, '');
  return cleaned;
}

/** `r-` and 8 characters, shared by the servers of one request (derived from its request id). */
export function reservationIdOf(requestId: string): string {
  const digest = createHash('sha256').update(requestId).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `r-${[...digest.subarray(0, 8)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

export function serverBasic(baseUrl: string, record: ServerRecord): Record<string, unknown> {
  const { instance } = record;
  return { id: instance.id, name: instance.name, links: resourceLinks(baseUrl, 'servers', instance.id) };
}

export function serverDetail(
  record: ServerRecord,
  view: ViewContext,
  options: DetailOptions,
): Record<string, unknown> {
  const { instance } = record;
  const boot = instance.boot;
  if (!boot) throw new Error(`instance ${instance.id} has no boot request`);
  const version = view.microversion;
  const status = serverStatus(instance);
  // The image the root disk was last made from (a rebuild changes it).
  const imageId = (instance.image ?? boot.image).id;
  // The flavor it has now: a resize waiting for confirmation shows the new one, as Nova does.
  const flavor = instance.flavor ?? boot.flavor;
  const server: Record<string, unknown> = {
    id: instance.id,
    name: instance.name,
    status,
    tenant_id: boot.projectId,
    user_id: boot.userId,
    metadata: instance.metadata,
    hostId: hostIdOf(boot.projectId, instance.host),
    image: { id: imageId, links: bookmarkLink(view.baseUrl, 'images', imageId) },
    flavor: version.atLeast(FLAVOR_IN_SERVER)
      ? {
          vcpus: flavor.vcpus,
          ram: flavor.ramMb,
          disk: flavor.diskGb,
          ephemeral: 0,
          swap: 0,
          original_name: flavor.name,
          extra_specs: {},
        }
      : { id: flavor.id, links: bookmarkLink(view.baseUrl, 'flavors', flavor.id) },
    created: isoSeconds(instance.createdAt ?? ''),
    updated: isoSeconds(instance.updatedAt ?? instance.createdAt ?? ''),
    addresses: addressesOf(instance.interfaces, view),
    accessIPv4: instance.accessIPv4 ?? '',
    accessIPv6: instance.accessIPv6 ?? '',
    links: resourceLinks(view.baseUrl, 'servers', instance.id),
    'OS-DCF:diskConfig': 'MANUAL',
  };
  if ((status === 'ERROR' || status === 'DELETED') && instance.fault) {
    const { fault } = instance;
    server['fault'] = {
      code: fault.code,
      created: isoSeconds(fault.created),
      message: fault.message,
      ...(fault.details !== undefined && fault.details !== '' && (view.isAdmin || fault.code !== 500)
        ? { details: fault.details }
        : {}),
    };
  }
  if (PROGRESS_STATUSES.has(status)) server['progress'] = 0;

  if (options.full) {
    server['OS-EXT-AZ:availability_zone'] = instance.host
      ? view.zoneOf(instance.host)
      : (boot.availabilityZone ?? '');
    server['config_drive'] = '';
    server['key_name'] = boot.keyName ?? null;
    server['OS-SRV-USG:launched_at'] = instance.launchedAt ? naiveMicros(instance.launchedAt) : null;
    server['OS-SRV-USG:terminated_at'] = instance.terminatedAt ? naiveMicros(instance.terminatedAt) : null;
    if (view.isAdmin) {
      server['OS-EXT-SRV-ATTR:host'] = instance.host;
      server['OS-EXT-SRV-ATTR:instance_name'] = record.domainName ?? '';
      server['OS-EXT-SRV-ATTR:hypervisor_hostname'] = instance.host;
      if (version.atLeast(EXTENDED_SERVER_ATTRIBUTES)) {
        const createdBy = instance.actions.find((action) => action.action === 'create');
        server['OS-EXT-SRV-ATTR:reservation_id'] = reservationIdOf(createdBy?.requestId ?? instance.id);
        server['OS-EXT-SRV-ATTR:launch_index'] = 0;
        server['OS-EXT-SRV-ATTR:hostname'] = sanitizeHostname(boot.name);
        server['OS-EXT-SRV-ATTR:kernel_id'] = '';
        server['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
        server['OS-EXT-SRV-ATTR:root_device_name'] = instance.launchedAt ? '/dev/vda' : null;
        server['OS-EXT-SRV-ATTR:user_data'] = boot.userData ?? null;
      }
    }
    server['OS-EXT-STS:task_state'] = instance.taskState;
    server['OS-EXT-STS:vm_state'] = instance.vmState;
    server['OS-EXT-STS:power_state'] = POWER_STATE_CODES[instance.powerState];
    server['os-extended-volumes:volumes_attached'] = [];
    if (version.atLeast(SERVER_HOST_STATUS) && view.isAdmin && !options.hostStatusLast) {
      server['host_status'] = view.hostStatus(instance.host);
    }
  }
  if (version.atLeast(SERVER_LOCKED)) server['locked'] = instance.lock !== null;
  if (version.atLeast(LOCKED_REASON)) server['locked_reason'] = instance.lock?.reason ?? null;
  if (version.atLeast(SERVER_DESCRIPTION)) server['description'] = instance.description;
  if (version.atLeast(SERVER_TAGS)) server['tags'] = [];
  if (version.atLeast(TRUSTED_CERTIFICATES)) server['trusted_image_certificates'] = null;
  if (version.atLeast(SERVER_HOSTNAME) && !view.isAdmin)
    server['OS-EXT-SRV-ATTR:hostname'] = sanitizeHostname(boot.name);
  if (options.serverGroups && version.atLeast(SERVER_GROUPS_IN_SERVER))
    server['server_groups'] = boot.serverGroup ? [boot.serverGroup.id] : [];
  if (options.full && options.hostStatusLast && version.atLeast(SERVER_HOST_STATUS) && view.isAdmin) {
    server['host_status'] = view.hostStatus(instance.host);
  }
  return server;
}
