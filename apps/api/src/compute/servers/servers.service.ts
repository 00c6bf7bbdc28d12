/**
 * The servers API's logic: boot (validate what the schema cannot, resolve flavor, image, key pair and
 * group, enforce quotas, decide and append BootRequested per server), list from the projection with
 * Nova's filters and paging, show by folding the stream (read-your-writes), update and delete.
 * Servers of other projects do not exist for a caller (404), as in Nova.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { Position } from '@eventstore/db-client';

import {
  BootServer,
  CPU_ARCHITECTURES,
  type CpuArchitecture,
  HYPERVISOR_TYPES,
  type HypervisorType,
  type RequestedNetworks,
  ServerUpdated,
  build,
  streamFor,
} from '#libs/contracts';
import {
  InstanceNotFound,
  checkInstanceQuota,
  decideBoot,
  decideDelete,
  decideUpdate,
  QuotaExceeded,
} from '#libs/domain';
import { EventStore } from '#libs/event-store';

import type { ApiConfig } from '../../config/api.config.js';
import { canSeeProject, isAdmin } from '../../common/auth/principal.js';
import { badRequest, forbidden, policyForbids } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { truthy } from '../../common/validation/parameter-types.js';
import { ImagesService } from '../../image/images.service.js';
import { FlavorsService } from '../flavors/flavors.service.js';
import { HostRegistry } from '../hosts/host-registry.js';
import { KeypairsService } from '../keypairs/keypairs.service.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { ServerGroupsService } from '../server-groups/server-groups.service.js';
import { MarkerNotFound, type ServerQuery, ServerProjection } from './projection/server-projection.js';
import { type ServerRecord, serverRecordReducer } from './server-record.js';
import type { CreateServerBody, UpdateServerBody } from './servers.schemas.js';
import { type ViewContext, reservationIdOf } from './server.view.js';
import { SERVER_DESCRIPTION, STATUS_FILTER_VALIDATED } from '../microversions.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Nova's status filter values, mapped to what the projection stores. */
const STATUS_FILTERS = new Set(['ACTIVE', 'BUILD', 'SHUTOFF', 'ERROR', 'REBOOT', 'HARD_REBOOT', 'DELETED']);
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

export interface CreatedServer {
  readonly id: string;
  readonly adminPass: string;
  readonly reservationId: string;
  readonly diskConfig: 'AUTO' | 'MANUAL';
  readonly securityGroups: readonly { readonly name: string }[];
  readonly returnReservationId: boolean;
}

export interface ServerList {
  readonly servers: readonly ServerRecord[];
  readonly limit: number;
}

function generatePassword(): string {
  const bytes = randomBytes(12);
  return [...bytes].map((byte) => PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length]).join('');
}

/** `zone`, `zone:host`, `zone:host:node` or `:host`, as Nova parses `availability_zone`. */
function parseAvailabilityZone(value: string | undefined): { zone: string | null; host: string | null } {
  if (value === undefined || value === '') return { zone: null, host: null };
  if (!value.includes(':')) return { zone: value, host: null };
  const [zone, host, node, ...rest] = value.split(':');
  if (rest.length > 0 || (host === '' && node === undefined)) {
    throw badRequest(`Unable to parse availability_zone '${value}'`);
  }
  return { zone: zone === '' ? null : (zone ?? null), host: host === '' ? null : (host ?? null) };
}

@Injectable()
export class ServersService {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly store: EventStore,
    private readonly projection: ServerProjection,
    private readonly hosts: HostRegistry,
    private readonly flavors: FlavorsService,
    private readonly images: ImagesService,
    private readonly keypairs: KeypairsService,
    private readonly groups: ServerGroupsService,
    private readonly quotas: QuotasService,
    private readonly publicUrl: PublicUrl,
  ) {}

  viewContext(context: CallContext): ViewContext {
    return {
      baseUrl: this.publicUrl.get(),
      microversion: context.microversion,
      isAdmin: isAdmin(context.principal),
      zoneOf: (host) => this.hosts.zoneOf(host),
      hostStatus: (host) => this.hosts.hostStatus(host),
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Create
  // ---------------------------------------------------------------------------------------------------------

  async create(context: CallContext, body: CreateServerBody): Promise<CreatedServer> {
    const { principal, microversion } = context;
    const request = body.server;
    const minCount = Number(request.min_count ?? 1);
    const maxCount = Number(request.max_count ?? minCount);
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    if (request.block_device_mapping?.length || request.block_device_mapping_v2?.length) {
      throw badRequest('Block device mappings are not supported: Nimbus boots servers from images only.');
    }
    const requestedNetworks = this.networksOf(request.networks);

    const { zone, host: forcedHost } = parseAvailabilityZone(request.availability_zone);
    if (forcedHost !== null || request.host !== undefined || request.hypervisor_hostname !== undefined) {
      if (!isAdmin(principal)) {
        throw policyForbids(
          forcedHost !== null
            ? 'os_compute_api:servers:create:forced_host'
            : 'compute:servers:create:requested_destination',
        );
      }
    }
    const targetHost = forcedHost ?? request.host ?? request.hypervisor_hostname ?? null;
    if (targetHost !== null && !this.hosts.get(targetHost))
      throw badRequest(`Compute host ${targetHost} could not be found.`);
    if (zone !== null && forcedHost === null && !this.hosts.availableZones().has(zone)) {
      throw badRequest('The requested availability zone is not available');
    }

    if (request.imageRef === undefined || request.imageRef === '')
      throw badRequest('Missing imageRef attribute');
    const imageId = (request.imageRef.split('/').filter(Boolean).at(-1) ?? '').toLowerCase();
    const image = this.images.resolveForBoot(principal, imageId);
    const flavor = this.flavors.resolveForBoot(String(request.flavorRef), isAdmin(principal));
    if (image.minRam > flavor.ramMb) throw badRequest("Flavor's memory is too small for requested image.");
    if (flavor.diskGb > 0 && image.minDisk > flavor.diskGb) {
      throw badRequest("Flavor's disk is too small for requested image.");
    }
    const keypair =
      request.key_name === undefined
        ? null
        : await this.keypairs.resolveForBoot(principal.userId, request.key_name);

    const hints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {};
    const group =
      hints.group === undefined ? null : this.groups.resolveForBoot(principal, hints.group.toLowerCase());

    const metadata = request.metadata ?? {};
    const limits = this.quotas.limitsFor(principal.projectId);
    if (limits.metadataItems >= 0 && Object.keys(metadata).length > limits.metadataItems) {
      throw forbidden(
        `Quota exceeded for metadata_items: Requested ${Object.keys(metadata).length}, but already used 0 of ${limits.metadataItems} metadata_items`,
      );
    }
    const count = checkInstanceQuota(limits, this.quotas.instanceUsage(principal.projectId), {
      vcpus: flavor.vcpus,
      ramMb: flavor.ramMb,
      minCount,
      maxCount,
    });
    if (group) {
      const members = this.projection.membersOf(group.id).length;
      if (limits.serverGroupMembers >= 0 && members + count > limits.serverGroupMembers) {
        throw new QuotaExceeded('Quota exceeded, too many servers in group');
      }
    }

    // Before 2.19 Nova stores the name as the description.
    const description = microversion.atLeast(SERVER_DESCRIPTION)
      ? (request.description ?? null)
      : request.name;
    const eventContext = eventContextOf(principal, context.requestId);
    const ids: string[] = [];
    let last: Position | undefined;
    for (let index = 0; index < count; index += 1) {
      const instanceId = randomUUID();
      const name = count > 1 ? `${request.name}-${index + 1}` : request.name;
      const command = build(BootServer, {
        instanceId,
        projectId: principal.projectId,
        userId: principal.userId,
        name,
        flavor: {
          id: flavor.flavorId,
          name: flavor.name,
          vcpus: flavor.vcpus,
          ramMb: flavor.ramMb,
          diskGb: flavor.diskGb,
        },
        image: { id: image.id, name: image.name, properties: imagePropertiesOf(image.properties) },
        metadata,
        requestedNetworks,
        ...(zone === null ? {} : { availabilityZone: zone }),
        ...(keypair === null ? {} : { keyName: keypair.name }),
        ...(group === null ? {} : { serverGroup: { id: group.id, policy: group.policy } }),
        ...(targetHost === null ? {} : { forcedHost: targetHost }),
        quota: { instances: limits.instances, cores: limits.cores, ramMb: limits.ramMb },
      });
      const { appended } = await this.store.execute(
        streamFor('instance', instanceId),
        serverRecordReducer,
        (record) => [
          ...decideBoot(record.instance, command),
          ...(description === null ? [] : [build(ServerUpdated, { instanceId, description })]),
        ],
        eventContext,
      );
      last = appended?.position;
      ids.push(instanceId);
    }
    await this.projection.waitFor(last);
    const [first] = ids;
    if (first === undefined) throw new Error('no server was created');
    return {
      id: first,
      adminPass: generatePassword(),
      reservationId: reservationIdOf(context.requestId),
      diskConfig: request['OS-DCF:diskConfig'] ?? 'MANUAL',
      securityGroups: request.security_groups?.flatMap((group) =>
        group.name ? [{ name: group.name }] : [],
      ) ?? [{ name: 'default' }],
      returnReservationId: truthy(request.return_reservation_id),
    };
  }

  private networksOf(networks: CreateServerBody['server']['networks']): RequestedNetworks {
    if (networks === undefined || networks === 'auto') return 'auto';
    if (networks === 'none') return 'none';
    if (networks.length === 0) return 'none';
    const [first] = networks;
    if (first?.port) throw badRequest(`Port ${first.port} could not be found.`);
    if (first?.uuid !== undefined) throw badRequest(`Network ${first.uuid} could not be found.`);
    throw badRequest('Bad networks format: network uuid is not in proper format');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------------------

  /** A server the caller may see, folded from its stream; Nova's 404 otherwise (deleted ones included). */
  async load(
    context: CallContext,
    serverId: string,
    options: { allowDeleted?: boolean } = {},
  ): Promise<ServerRecord> {
    if (!UUID.test(serverId)) throw new InstanceNotFound(serverId);
    const id = serverId.toLowerCase();
    const { state } = await this.store.fold(streamFor('instance', id), serverRecordReducer);
    const { instance } = state;
    const visible =
      instance.exists &&
      instance.boot !== null &&
      (options.allowDeleted === true || instance.vmState !== 'deleted') &&
      canSeeProject(context.principal, instance.boot.projectId);
    if (!visible) throw new InstanceNotFound(serverId);
    return state;
  }

  list(
    context: CallContext,
    query: Readonly<Record<string, unknown>>,
    page: { readonly limit: number; readonly marker: string | null; readonly detail: boolean },
  ): ServerList {
    const { limit, marker } = page;
    const { principal, microversion } = context;
    const text = (name: string): string | undefined => {
      const value = query[name];
      if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
      return typeof value === 'string' ? value : undefined;
    };
    const allTenants =
      text('all_tenants') !== undefined && (text('all_tenants') === '' || truthy(text('all_tenants')));
    if (allTenants && !isAdmin(principal)) {
      throw policyForbids(`os_compute_api:servers:${page.detail ? 'detail' : 'index'}:get_all_tenants`);
    }
    // Nova drops the filters only admins may use from a member's query rather than refuse it.
    const host = isAdmin(principal) ? (text('host') ?? text('node')) : undefined;

    let statuses: string[] | undefined;
    const statusValues = ([] as unknown[])
      .concat(query['status'] ?? [])
      .filter((value): value is string => typeof value === 'string');
    if (statusValues.length > 0) {
      const upper = statusValues.map((value) => value.toUpperCase());
      if (upper.some((value) => !KNOWN_STATUSES.has(value))) {
        if (microversion.atLeast(STATUS_FILTER_VALIDATED)) throw badRequest('Invalid status value');
        return { servers: [], limit };
      }
      if (upper.includes('DELETED') && !isAdmin(principal)) {
        throw forbidden('Only administrators may list deleted instances');
      }
      statuses = upper.filter((value) => STATUS_FILTERS.has(value));
      if (statuses.length === 0) return { servers: [], limit };
    }

    const changesSince = text('changes-since');
    let since: string | undefined;
    if (changesSince !== undefined) {
      const parsed = Date.parse(changesSince);
      if (Number.isNaN(parsed))
        throw badRequest(
          `Invalid input for query parameters changes-since. Value: ${changesSince}. '${changesSince}' is not a 'date-time'`,
        );
      since = new Date(parsed).toISOString();
    }
    const name = text('name');
    if (name !== undefined) {
      try {
        new RegExp(name, 'u');
      } catch {
        throw badRequest(
          `Invalid input for query parameters name. Value: ${name}. '${name}' is not a 'regex'`,
        );
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
    const serverQuery: ServerQuery = {
      projectId,
      deleted,
      limit,
      marker,
      ...(name === undefined ? {} : { name }),
      ...(statuses === undefined ? {} : { statuses }),
      ...(host === undefined ? {} : { host }),
      ...(since === undefined ? {} : { changesSince: since }),
      ...(image === undefined ? {} : { imageId: image.split('/').at(-1) ?? image }),
      ...(flavor === undefined ? {} : { flavorId: flavor.split('/').at(-1) ?? flavor }),
    };
    try {
      return { servers: this.projection.list(serverQuery), limit };
    } catch (error) {
      if (error instanceof MarkerNotFound) throw badRequest(error.message);
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Writes on one server
  // ---------------------------------------------------------------------------------------------------------

  async update(context: CallContext, serverId: string, body: UpdateServerBody): Promise<ServerRecord> {
    const current = await this.load(context, serverId);
    const id = current.instance.id;
    const changes = {
      ...(body.server.name === undefined ? {} : { name: body.server.name }),
      ...(body.server.description === undefined ? {} : { description: body.server.description }),
    };
    const { appended } = await this.store.execute(
      streamFor('instance', id),
      serverRecordReducer,
      (record) => decideUpdate(record.instance, id, changes),
      eventContextOf(context.principal, context.requestId),
    );
    await this.projection.waitFor(appended?.position);
    return this.load(context, id);
  }

  async delete(context: CallContext, serverId: string): Promise<void> {
    const current = await this.load(context, serverId);
    const id = current.instance.id;
    const { appended } = await this.store.execute(
      streamFor('instance', id),
      serverRecordReducer,
      (record) => decideDelete(record.instance, id),
      eventContextOf(context.principal, context.requestId),
    );
    await this.projection.waitFor(appended?.position);
  }

  /** Runs a decision on a server the caller may see, and waits for the projection to show its effect. */
  async act<E extends object>(
    context: CallContext,
    serverId: string,
    decide: (record: ServerRecord, instanceId: string) => E[],
  ): Promise<void> {
    const current = await this.load(context, serverId);
    const id = current.instance.id;
    const { appended } = await this.store.execute(
      streamFor('instance', id),
      serverRecordReducer,
      (record) => decide(record, id),
      eventContextOf(context.principal, context.requestId),
    );
    await this.projection.waitFor(appended?.position);
  }
}

/** The image properties the scheduler matches, when they hold values the contracts know. */
function imagePropertiesOf(properties: Readonly<Record<string, string>>): {
  architecture?: CpuArchitecture;
  hypervisorType?: HypervisorType;
} {
  const architecture = CPU_ARCHITECTURES.find((value) => value === properties['architecture']);
  const hypervisorType = HYPERVISOR_TYPES.find(
    (value) => value === (properties['hypervisor_type'] ?? properties['img_hv_type']),
  );
  return {
    ...(architecture === undefined ? {} : { architecture }),
    ...(hypervisorType === undefined ? {} : { hypervisorType }),
  };
}
