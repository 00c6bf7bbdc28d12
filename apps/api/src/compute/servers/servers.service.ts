/**
 * The servers API's writes: boot (admitted by ServerAdmission, then one BootRequested per server decided
 * by the domain and appended), update, delete and the lifecycle actions, each on a server the caller may
 * see (ServerReads) and appended at the revision folded; each waits until the projection shows it.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type { Position } from '@eventstore/db-client';

import {
  IMAGE_PROPERTY_RULES,
  ServerAccessAddressesSet,
  ServerUpdated,
  build,
  streamFor,
} from '#libs/contracts';
import {
  decideBoot,
  decideDelete,
  checkResizeQuota,
  decideRebuild,
  decideResize,
  decideSetAccessAddresses,
  decideSetMetadata,
  decideSnapshot,
  decideUpdate,
  mustBeUnlocked,
} from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { isAdmin } from '../../common/auth/principal.js';
import { badRequest } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { truthy } from '../../common/validation/parameter-types.js';
import { ImagesService } from '../../image/images.service.js';
import { FlavorsService } from '../flavors/flavors.service.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { ServerProjection } from './projection/server-projection.js';
import { ServerAdmission } from './server-admission.js';
import { ServerReads } from './server-reads.js';
import { ServerNics } from './server-nics.js';
import { type ServerRecord, serverRecordReducer } from './server-record.js';
import type { CreateServerBody, RebuildServerBody, UpdateServerBody } from './servers.schemas.js';
import { reservationIdOf } from './server.view.js';

function canonicalIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    throw badRequest(
      `Invalid input for field/attribute accessIPv6. Value: ${address}. '${address}' is not a 'ipv6'`,
    );
  }
}

/** The access addresses a create or update names (the schema checked their form). */
function accessAddressesOf(server: { readonly accessIPv4?: string; readonly accessIPv6?: string }): {
  accessIPv4?: string;
  accessIPv6?: string;
} {
  const { accessIPv4, accessIPv6 } = server;
  return {
    ...(accessIPv4 === undefined ? {} : { accessIPv4 }),
    // Kept in canonical form (RFC 5952), as Nova keeps it: `0:0:0:0:0:babe:220.12.22.2` reads back as
    // `::babe:dc0c:1602`.
    ...(accessIPv6 === undefined ? {} : { accessIPv6: canonicalIpv6(accessIPv6) }),
  };
}

const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface CreatedServer {
  readonly id: string;
  readonly adminPass: string;
  readonly reservationId: string;
  readonly diskConfig: 'AUTO' | 'MANUAL';
  readonly securityGroups: readonly { readonly name: string }[];
  readonly returnReservationId: boolean;
}

function generatePassword(): string {
  const bytes = randomBytes(12);
  return [...bytes].map((byte) => PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length]).join('');
}

@Injectable()
export class ServersService {
  constructor(
    private readonly store: EventStore,
    private readonly projection: ServerProjection,
    private readonly admission: ServerAdmission,
    private readonly reads: ServerReads,
    private readonly images: ImagesService,
    private readonly quotas: QuotasService,
    private readonly flavors: FlavorsService,
    private readonly nics: ServerNics,
  ) {}

  async create(context: CallContext, body: CreateServerBody): Promise<CreatedServer> {
    const request = body.server;
    const admitted = await this.admission.admit(context, body);
    const { description } = admitted;
    const addresses = accessAddressesOf(request);
    const eventContext = eventContextOf(context.principal, context.requestId);
    const ids: string[] = [];
    let last: Position | undefined;
    for (let index = 0; index < admitted.count; index += 1) {
      const instanceId = randomUUID();
      const command = admitted.bootCommand(instanceId, index);
      const nics = await this.nics.allocate(
        context.principal,
        admitted.network,
        instanceId,
        admitted.zone,
        eventContext,
      );
      const { appended } = await this.store
        .execute(
          streamFor('instance', instanceId),
          serverRecordReducer,
          (record) => [
            ...decideBoot(record.instance, command),
            ...nics.map((nic) => nic.event),
            ...(description === null ? [] : [build(ServerUpdated, { instanceId, description })]),
            ...(addresses.accessIPv4 === undefined && addresses.accessIPv6 === undefined
              ? []
              : [
                  build(ServerAccessAddressesSet, {
                    instanceId,
                    accessIPv4: addresses.accessIPv4 ?? null,
                    accessIPv6: addresses.accessIPv6 ?? null,
                  }),
                ]),
          ],
          eventContext,
          { fresh: true },
        )
        .catch(async (error: unknown) => {
          await this.nics.release(nics, instanceId, eventContext);
          throw error;
        });
      last = appended?.position;
      ids.push(instanceId);
    }
    await this.projection.waitFor(last);
    const [first] = ids;
    if (first === undefined) throw new Error('no server was created');
    return {
      id: first,
      adminPass: request.adminPass ?? generatePassword(),
      reservationId: reservationIdOf(context.requestId),
      diskConfig: request['OS-DCF:diskConfig'] ?? 'MANUAL',
      securityGroups: request.security_groups?.flatMap((group) =>
        group.name ? [{ name: group.name }] : [],
      ) ?? [{ name: 'default' }],
      returnReservationId: truthy(request.return_reservation_id),
    };
  }

  async update(context: CallContext, serverId: string, body: UpdateServerBody): Promise<ServerRecord> {
    const changes = {
      ...(body.server.name === undefined ? {} : { name: body.server.name }),
      ...(body.server.description === undefined ? {} : { description: body.server.description }),
    };
    const addresses = accessAddressesOf(body.server);
    const id = await this.act(context, serverId, (record, instanceId) => [
      ...decideUpdate(record.instance, instanceId, changes),
      ...decideSetAccessAddresses(record.instance, instanceId, addresses),
    ]);
    return this.reads.load(context, id);
  }

  /**
   * Rebuilds the server from the image the request names, with what the same request changes (name,
   * metadata, access addresses, description) decided in the same step; the server as it now reads, and
   * the password Nova answers with (the one given, or a new one: no driver here sets a guest's).
   */
  async rebuild(
    context: CallContext,
    serverId: string,
    request: RebuildServerBody['rebuild'],
  ): Promise<{ record: ServerRecord; adminPass: string }> {
    const current = await this.reads.load(context, serverId);
    const boot = current.instance.boot;
    if (!boot) throw new Error(`server ${serverId} has no boot request`);
    const { flavor } = boot;
    if (request.metadata)
      this.quotas.checkMetadataItems(boot.projectId, Object.keys(request.metadata).length);
    const image = ServerAdmission.snapshotOf(
      this.admission.imageFor(context.principal, request.imageRef, flavor),
    );
    this.admission.checkImageRunsOn(image, current.instance.host);
    const changes = {
      ...(request.name === undefined ? {} : { name: request.name }),
      ...(request.description === undefined ? {} : { description: request.description }),
    };
    const addresses = accessAddressesOf(request);
    const id = await this.actUnlocked(context, serverId, (record, instanceId) => [
      ...decideRebuild(record.instance, instanceId, image),
      ...decideUpdate(record.instance, instanceId, changes),
      ...(request.metadata === undefined
        ? []
        : decideSetMetadata(record.instance, instanceId, request.metadata)),
      ...decideSetAccessAddresses(record.instance, instanceId, addresses),
    ]);
    return { record: await this.reads.load(context, id), adminPass: request.adminPass ?? generatePassword() };
  }

  /**
   * `createImage`: a queued image owned by the server's project, named as asked, carrying the request's
   * metadata and Nova's snapshot properties, then SnapshotRequested on the server, whose compute agent
   * fills the image; its id. The image is deleted again if the server refuses (locked, busy, or in a
   * state that takes no snapshot), so a refusal leaves no image behind.
   */
  async createImage(
    context: CallContext,
    serverId: string,
    name: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<string> {
    const { instance } = await this.reads.load(context, serverId);
    const { boot } = instance;
    if (!boot) throw new Error(`server ${serverId} has no boot request`);
    const invalid = Object.keys(metadata).find((key) => !IMAGE_PROPERTY_RULES.keyPattern.test(key));
    if (invalid !== undefined) throw badRequest(`Invalid image metadata key: ${invalid.slice(0, 64)}`);
    // Checked on the read state first, so a plain refusal makes no image at all.
    mustBeUnlocked(instance, instance.id, isAdmin(context.principal));
    const imageId = randomUUID();
    decideSnapshot(instance, instance.id, imageId);
    const eventContext = eventContextOf(context.principal, context.requestId);
    const baseId = (instance.image ?? boot.image).id;
    // As Nova: the base image's memory need, its disk need or the flavor's disk, whichever is larger.
    const base = this.images.known(baseId);
    await this.images.record(imageId, eventContext, {
      owner: boot.projectId,
      name,
      visibility: 'private',
      diskFormat: 'qcow2',
      containerFormat: 'bare',
      minDisk: Math.max(base?.minDisk ?? 0, boot.flavor.diskGb),
      minRam: base?.minRam ?? 0,
      protected: false,
      properties: {
        image_type: 'snapshot',
        instance_uuid: instance.id,
        base_image_ref: baseId,
        user_id: boot.userId,
        ...metadata,
      },
      tags: [],
    });
    try {
      await this.actUnlocked(context, serverId, (record, instanceId) =>
        decideSnapshot(record.instance, instanceId, imageId),
      );
    } catch (error) {
      await this.images.discard(imageId, eventContext).catch(() => undefined);
      throw error;
    }
    return imageId;
  }

  /**
   * `resize`: the flavor the request names (resolved as at boot: public, or any for an admin), checked
   * against the image the server runs and, when it grows the server, against the project's quota.
   */
  async resize(context: CallContext, serverId: string, flavorRef: string): Promise<void> {
    const { instance } = await this.reads.load(context, serverId);
    const boot = instance.boot;
    if (!boot) throw new Error(`server ${serverId} has no boot request`);
    const flavor = this.flavors.resolveForBoot(flavorRef, isAdmin(context.principal));
    const current = instance.flavor ?? boot.flavor;
    const image = this.images.known((instance.image ?? boot.image).id);
    if (image && image.minRam > flavor.ramMb)
      throw badRequest("Flavor's memory is too small for requested image.");
    checkResizeQuota(this.quotas.limitsFor(boot.projectId), this.quotas.instanceUsage(boot.projectId), {
      cores: flavor.vcpus - current.vcpus,
      ramMb: flavor.ramMb - current.ramMb,
    });
    const snapshot = {
      id: flavor.flavorId,
      name: flavor.name,
      vcpus: flavor.vcpus,
      ramMb: flavor.ramMb,
      diskGb: flavor.diskGb,
    };
    await this.actUnlocked(context, serverId, (record, instanceId) =>
      decideResize(record.instance, instanceId, snapshot),
    );
  }

  async delete(context: CallContext, serverId: string): Promise<void> {
    await this.actUnlocked(context, serverId, (record, instanceId) =>
      decideDelete(record.instance, instanceId),
    );
  }

  /** `act`, refused with Nova's 409 while the server is locked, unless an admin asks. */
  actUnlocked<E extends object>(
    context: CallContext,
    serverId: string,
    decide: (record: ServerRecord, instanceId: string) => E[],
  ): Promise<string> {
    return this.act(context, serverId, (record, instanceId) => {
      mustBeUnlocked(record.instance, instanceId, isAdmin(context.principal));
      return decide(record, instanceId);
    });
  }

  /**
   * Runs a decision on a server the caller may see, appended at the revision it was decided on, and waits
   * for the projection to show its effect; the server's id as stored.
   */
  async act<E extends object>(
    context: CallContext,
    serverId: string,
    decide: (record: ServerRecord, instanceId: string) => E[],
  ): Promise<string> {
    const current = await this.reads.load(context, serverId);
    const id = current.instance.id;
    const { appended } = await this.store.execute(
      streamFor('instance', id),
      serverRecordReducer,
      (record) => decide(record, id),
      eventContextOf(context.principal, context.requestId),
    );
    await this.projection.waitFor(appended?.position);
    return id;
  }
}
