/**
 * Whether a boot request may proceed, and as what: what the schema cannot check (counts, block devices,
 * networks and security groups, zone and forced host), the flavor, image, key pair and group it names, and the project's
 * quotas (Nova's arithmetic in the domain's `checkInstanceQuota`). The result is everything the writes
 * need to decide one BootServer per server. Never appends: a refused request leaves no trace.
 */
import { Injectable } from '@nestjs/common';

import {
  BootServer,
  CPU_ARCHITECTURES,
  type CpuArchitecture,
  HYPERVISOR_TYPES,
  type HypervisorType,
  type ImageSnapshot,
  type Plain,
  build,
} from '#libs/contracts';
import { type ImageState, QuotaExceeded, checkInstanceQuota } from '#libs/domain';

import { type Principal, isAdmin } from '../../common/auth/principal.js';
import { badRequest, policyForbids } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { ImagesService } from '../../image/images.service.js';
import { FlavorsService } from '../flavors/flavors.service.js';
import { HostRegistry } from '../hosts/host-registry.js';
import { KeypairsService } from '../keypairs/keypairs.service.js';
import { SERVER_DESCRIPTION } from '../microversions.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { ServerGroupsService } from '../server-groups/server-groups.service.js';
import { ServerProjection } from './projection/server-projection.js';
import type { CreateServerBody } from './servers.schemas.js';
import { type NetworkPlan, ServerNics } from './server-nics.js';

/** An admitted boot: how many servers, and the command for each. */
export interface Admission {
  readonly count: number;
  /** Null when the server gets no description (from 2.19, when none is given). */
  readonly description: string | null;
  /** The NICs each server gets. */
  readonly network: NetworkPlan;
  /** The zone the boot asked for, if any (a made port's device owner names it). */
  readonly zone: string | null;
  bootCommand(instanceId: string, index: number): BootServer;
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

@Injectable()
export class ServerAdmission {
  constructor(
    private readonly projection: ServerProjection,
    private readonly hosts: HostRegistry,
    private readonly flavors: FlavorsService,
    private readonly images: ImagesService,
    private readonly keypairs: KeypairsService,
    private readonly groups: ServerGroupsService,
    private readonly quotas: QuotasService,
    private readonly nics: ServerNics,
  ) {}

  /**
   * The image a boot or a rebuild names (an id or a link to it), visible to the caller and active, and
   * fitting the flavor: Nova's 400s otherwise.
   */
  imageFor(
    principal: Principal,
    imageRef: string,
    flavor: { readonly ramMb: number; readonly diskGb: number },
  ): ImageState {
    const imageId = (imageRef.split('/').filter(Boolean).at(-1) ?? '').toLowerCase();
    const image = this.images.resolveForBoot(principal, imageId);
    if (image.minRam > flavor.ramMb) throw badRequest("Flavor's memory is too small for requested image.");
    if (flavor.diskGb > 0 && image.minDisk > flavor.diskGb) {
      throw badRequest("Flavor's disk is too small for requested image.");
    }
    return image;
  }

  /**
   * A rebuild stays on the server's host, so the new image must run there: an architecture or hypervisor
   * type the image names must be the host's, as the scheduler's image-properties filter demands at boot.
   */
  checkImageRunsOn(image: Plain<ImageSnapshot>, hostName: string | null): void {
    const host = hostName === null ? undefined : this.hosts.get(hostName)?.state;
    if (!host) return;
    const { architecture, hypervisorType } = image.properties;
    const mismatch =
      architecture !== undefined && architecture !== host.cpuArch
        ? `it is built for ${architecture}, the server's host is ${host.cpuArch}`
        : hypervisorType !== undefined && hypervisorType !== host.hypervisorType
          ? `it asks for ${hypervisorType}, the server's host runs ${host.hypervisorType}`
          : null;
    if (mismatch !== null) throw badRequest(`Image ${image.id} is unacceptable: ${mismatch}.`);
  }

  /** What an instance records of its image: id, name and the properties the scheduler matches. */
  static snapshotOf(image: ImageState): Plain<ImageSnapshot> {
    return { id: image.id, name: image.name, properties: imagePropertiesOf(image.properties) };
  }

  async admit(context: CallContext, body: CreateServerBody): Promise<Admission> {
    const { principal, microversion } = context;
    const request = body.server;
    const minCount = Number(request.min_count ?? 1);
    const maxCount = Number(request.max_count ?? minCount);
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    if (request.block_device_mapping?.length || request.block_device_mapping_v2?.length) {
      throw badRequest('Block device mappings are not supported: Nimbus boots servers from images only.');
    }

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
    const flavor = this.flavors.resolveForBoot(String(request.flavorRef), isAdmin(principal));
    const image = this.imageFor(principal, request.imageRef, flavor);
    const keypair =
      request.key_name === undefined
        ? null
        : await this.keypairs.resolveForBoot(principal.userId, request.key_name);

    const hints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {};
    const group =
      hints.group === undefined ? null : this.groups.resolveForBoot(principal, hints.group.toLowerCase());

    const network = this.nics.plan(principal, request, { min: minCount, max: maxCount });

    const metadata = request.metadata ?? {};
    this.quotas.checkMetadataItems(principal.projectId, Object.keys(metadata).length);
    const limits = this.quotas.limitsFor(principal.projectId);
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

    return {
      count,
      network,
      zone,
      // Before 2.19 Nova stores the name as the description.
      description: microversion.atLeast(SERVER_DESCRIPTION) ? (request.description ?? null) : request.name,
      bootCommand: (instanceId, index) =>
        build(BootServer, {
          instanceId,
          projectId: principal.projectId,
          userId: principal.userId,
          name: count > 1 ? `${request.name}-${index + 1}` : request.name,
          flavor: {
            id: flavor.flavorId,
            name: flavor.name,
            vcpus: flavor.vcpus,
            ramMb: flavor.ramMb,
            diskGb: flavor.diskGb,
          },
          image: ServerAdmission.snapshotOf(image),
          metadata,
          requestedNetworks: network.requested,
          ...(zone === null ? {} : { availabilityZone: zone }),
          ...(keypair === null ? {} : { keyName: keypair.name }),
          ...(request.user_data === undefined ? {} : { userData: request.user_data }),
          ...(group === null ? {} : { serverGroup: { id: group.id, policy: group.policy } }),
          ...(targetHost === null ? {} : { forcedHost: targetHost }),
          quota: { instances: limits.instances, cores: limits.cores, ramMb: limits.ramMb },
        }),
    };
  }
}
