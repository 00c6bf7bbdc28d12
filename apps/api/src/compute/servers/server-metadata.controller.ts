/**
 * `/v2.1/servers/{id}/metadata`: list, show one item, merge (POST), replace (PUT), set one item (PUT on
 * the key) and delete one item, with Nova's bodies, errors and metadata_items quota. Every change is one
 * ServerMetadataChanged holding the whole map, decided on the folded stream, and refused while the server
 * is locked (unless an admin asks). A change that changes nothing appends nothing.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';

import { decideSetMetadata } from '#libs/domain';

import { Policy } from '../../common/auth/auth.guard.js';
import { badRequest, notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import type { Schema } from '../../common/validation/schema.js';
import { METADATA } from '../../common/validation/parameter-types.js';
import { validateBody } from '../../common/validation/validate.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { ServerReads } from './server-reads.js';
import { ServersService } from './servers.service.js';

type Metadata = Readonly<Record<string, string>>;

const ALL: Schema = {
  type: 'object',
  properties: { metadata: METADATA },
  required: ['metadata'],
  additionalProperties: false,
};

const ONE: Schema = {
  type: 'object',
  properties: { meta: { ...METADATA, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
};

const RULE = 'os_compute_api:server-metadata';

@Controller('v2.1/servers/:id/metadata')
export class ServerMetadataController {
  constructor(
    private readonly servers: ServersService,
    private readonly reads: ServerReads,
    private readonly quotas: QuotasService,
  ) {}

  @Get()
  @Policy(`${RULE}:index`, 'reader')
  async list(@Ctx() context: CallContext, @Param('id') id: string): Promise<Record<string, unknown>> {
    return { metadata: (await this.reads.load(context, id)).instance.metadata };
  }

  @Get(':key')
  @Policy(`${RULE}:show`, 'reader')
  async show(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('key') key: string,
  ): Promise<Record<string, unknown>> {
    const { metadata } = (await this.reads.load(context, id)).instance;
    return { meta: { [key]: itemOf(metadata, key) } };
  }

  /** Merges the given items into the server's metadata; answers with all of it. */
  @Post()
  @HttpCode(200)
  @Policy(`${RULE}:create`, 'member')
  async merge(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { metadata } = validateBody<{ metadata: Metadata }>(ALL, body);
    return { metadata: await this.change(context, id, (current) => ({ ...current, ...metadata })) };
  }

  /** Replaces the server's metadata with the given items. */
  @Put()
  @Policy(`${RULE}:update_all`, 'member')
  async replace(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { metadata } = validateBody<{ metadata: Metadata }>(ALL, body);
    return { metadata: await this.change(context, id, () => metadata) };
  }

  @Put(':key')
  @Policy(`${RULE}:update`, 'member')
  async set(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('key') key: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { meta } = validateBody<{ meta: Metadata }>(ONE, body);
    if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
    await this.change(context, id, (current) => ({ ...current, [key]: meta[key] ?? '' }));
    return { meta };
  }

  @Delete(':key')
  @HttpCode(204)
  @Policy(`${RULE}:delete`, 'member')
  async delete(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('key') key: string,
  ): Promise<void> {
    await this.change(context, id, (current) => {
      itemOf(current, key);
      return Object.fromEntries(Object.entries(current).filter(([name]) => name !== key));
    });
  }

  /** Decides the new map from the folded one, checks it against the owner's quota, and appends it. */
  private async change(
    context: CallContext,
    id: string,
    next: (current: Metadata) => Metadata,
  ): Promise<Metadata> {
    let result: Metadata = {};
    await this.servers.actUnlocked(context, id, (record, instanceId) => {
      result = next(record.instance.metadata);
      const owner = record.instance.boot?.projectId ?? context.principal.projectId;
      this.quotas.checkMetadataItems(owner, Object.keys(result).length);
      return decideSetMetadata(record.instance, instanceId, result);
    });
    return result;
  }
}

function itemOf(metadata: Metadata, key: string): string {
  const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (value === undefined) throw notFound('Metadata item was not found');
  return value;
}
