/**
 * Flavors: lookup by id (and by name for clients' `--flavor NAME`), list with Nova's filters and paging,
 * admin create and delete, and the seeding of configured flavors at start.
 */
import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { type FlavorCreated, type Plain, streamFor } from '#libs/contracts';
import { FlavorNotFound, decideCreateFlavor, decideDeleteFlavor, flavorReducer } from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import type { ApiConfig } from '../../config/api.config.js';
import { badRequest, conflict } from '../../common/http/api-error.js';
import { ReadModelHub } from '../../common/store/read-model-hub.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { FlavorCatalog } from './flavor-catalog.js';
import type { CreateFlavorBody } from './flavor.schemas.js';
import { pageAfter } from '../paging.js';

export interface FlavorFilter {
  /** true or false: public or private flavors only; null: both (an admin's `is_public=None`). */
  readonly isPublic: boolean | null;
  readonly minRam?: number;
  readonly minDisk?: number;
  readonly limit: number;
  readonly marker: string | null;
}

@Injectable()
export class FlavorsService {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly catalog: FlavorCatalog,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  /** Private flavors exist for admins only (Nimbus has no flavor access lists). */
  show(flavorId: string, admin: boolean): Plain<FlavorCreated> {
    const definition = this.catalog.get(flavorId)?.definition;
    if (!definition || (!definition.isPublic && !admin)) throw new FlavorNotFound(flavorId);
    return definition;
  }

  list(filter: FlavorFilter): Plain<FlavorCreated>[] {
    let flavors = this.catalog.all().flatMap((flavor) => (flavor.definition ? [flavor.definition] : []));
    if (filter.isPublic !== null) flavors = flavors.filter((flavor) => flavor.isPublic === filter.isPublic);
    if (filter.minRam !== undefined)
      flavors = flavors.filter((flavor) => flavor.ramMb >= (filter.minRam ?? 0));
    if (filter.minDisk !== undefined)
      flavors = flavors.filter((flavor) => flavor.diskGb >= (filter.minDisk ?? 0));
    return pageAfter(
      flavors,
      filter,
      (flavor) => flavor.flavorId,
      (marker) => `marker [${marker}] not found`,
    );
  }

  /** The flavor a boot names by id or link; Nova's 400 when it does not exist. */
  resolveForBoot(flavorRef: string, admin: boolean): Plain<FlavorCreated> {
    const id = flavorRef.split('/').filter(Boolean).at(-1) ?? flavorRef;
    const definition = this.catalog.get(id)?.definition;
    if (!definition || (!definition.isPublic && !admin)) throw badRequest(`Flavor ${id} could not be found.`);
    return definition;
  }

  async create(body: CreateFlavorBody['flavor'], context: EventContext): Promise<Plain<FlavorCreated>> {
    const flavorId = body.id ?? randomUUID();
    if (this.catalog.all().some((flavor) => flavor.definition?.name === body.name)) {
      throw conflict(`Flavor with name ${body.name} already exists.`);
    }
    const definition: Plain<FlavorCreated> = {
      flavorId,
      name: body.name,
      vcpus: Number(body.vcpus),
      ramMb: Number(body.ram),
      diskGb: Number(body.disk),
      ephemeralGb: Number(body['OS-FLV-EXT-DATA:ephemeral'] ?? 0),
      swapMb: body.swap === undefined || body.swap === '' ? 0 : Number(body.swap),
      rxtxFactor: Number(body.rxtx_factor ?? 1),
      isPublic: body['os-flavor-access:is_public'] ?? true,
      description: body.description ?? null,
    };
    await this.record(definition, context);
    return definition;
  }

  async delete(flavorId: string, context: EventContext): Promise<void> {
    if (!this.catalog.get(flavorId)) throw new FlavorNotFound(flavorId);
    const { appended } = await this.store.execute(
      streamFor('flavor', flavorId),
      flavorReducer,
      (state) => decideDeleteFlavor(state, flavorId),
      context,
    );
    await this.hub.waitFor(appended?.position);
  }

  /** Creates each configured flavor whose id is not in use yet. */
  async seed(context: EventContext): Promise<void> {
    for (const seed of this.config.flavors) {
      if (this.catalog.get(seed.id)) continue;
      await this.record(
        {
          flavorId: seed.id,
          name: seed.name,
          vcpus: seed.vcpus,
          ramMb: seed.ram,
          diskGb: seed.disk,
          ephemeralGb: 0,
          swapMb: 0,
          rxtxFactor: 1,
          isPublic: true,
          description: null,
        },
        context,
      );
    }
  }

  private async record(definition: Plain<FlavorCreated>, context: EventContext): Promise<void> {
    const { appended } = await this.store.execute(
      streamFor('flavor', definition.flavorId),
      flavorReducer,
      (state) => decideCreateFlavor(state, definition),
      context,
    );
    await this.hub.waitFor(appended?.position);
  }
}
