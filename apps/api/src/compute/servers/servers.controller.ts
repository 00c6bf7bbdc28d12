/**
 * `/v2.1/servers`: create, list (basic and detail), show, update and delete. Thin: the body is checked
 * against the microversion's schema, ServersService writes, ServerReads reads, the view builder renders.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { inSpan } from '#libs/telemetry';

import type { ApiConfig } from '../../config/api.config.js';
import { Policy } from '../../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { validateBody } from '../../common/validation/validate.js';
import { pageLinks } from '../links.js';
import { pageOf } from '../paging.js';
import type { ServerRecord } from './server-record.js';
import { serverBasic, serverDetail } from './server.view.js';
import {
  type CreateServerBody,
  type UpdateServerBody,
  createServerSchema,
  updateServerSchema,
} from './servers.schemas.js';
import { ServerReads } from './server-reads.js';
import { ServersService } from './servers.service.js';
import { FULL_UPDATE_RESPONSE } from '../microversions.js';

const idOf = (record: ServerRecord): string => record.instance.id;

@Controller('v2.1/servers')
export class ServersController {
  constructor(
    private readonly servers: ServersService,
    private readonly reads: ServerReads,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @Policy('os_compute_api:servers:create', 'member')
  async create(
    @Ctx() context: CallContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<CreateServerBody>(createServerSchema(context.microversion), body);
    const created = await inSpan('api.accept POST /servers', () => this.servers.create(context, request));
    if (created.returnReservationId) return { reservation_id: created.reservationId };
    const base = this.publicUrl.get();
    reply.header('Location', `${base}/v2.1/servers/${created.id}`);
    return {
      server: {
        id: created.id,
        links: [
          { rel: 'self', href: `${base}/v2.1/servers/${created.id}` },
          { rel: 'bookmark', href: `${base}/servers/${created.id}` },
        ],
        'OS-DCF:diskConfig': created.diskConfig,
        security_groups: created.securityGroups,
        adminPass: created.adminPass,
      },
    };
  }

  @Get()
  @Policy('os_compute_api:servers:index', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const page = pageOf(query, this.config.maxLimit);
    const { servers, limit } = this.reads.list(context, query, { ...page, detail: false });
    const base = this.publicUrl.get();
    return {
      servers: servers.map((record) => serverBasic(base, record)),
      ...pageLinks('servers_links', { base, collection: 'servers', query }, servers, limit, idOf),
    };
  }

  @Get('detail')
  @Policy('os_compute_api:servers:detail', 'reader')
  detail(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const page = pageOf(query, this.config.maxLimit);
    const { servers, limit } = this.reads.list(context, query, { ...page, detail: true });
    const view = this.reads.viewContext(context);
    const base = this.publicUrl.get();
    return {
      servers: servers.map((record) =>
        serverDetail(record, view, { full: true, serverGroups: false, hostStatusLast: true }),
      ),
      ...pageLinks('servers_links', { base, collection: 'servers/detail', query }, servers, limit, idOf),
    };
  }

  @Get(':id')
  @Policy('os_compute_api:servers:show', 'reader')
  async show(@Ctx() context: CallContext, @Param('id') id: string): Promise<Record<string, unknown>> {
    const record = await this.reads.load(context, id);
    return {
      server: serverDetail(record, this.reads.viewContext(context), {
        full: true,
        serverGroups: true,
        hostStatusLast: false,
      }),
    };
  }

  @Put(':id')
  @Policy('os_compute_api:servers:update', 'member')
  async update(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<UpdateServerBody>(updateServerSchema(context.microversion), body);
    const record = await this.servers.update(context, id, request);
    return {
      server: serverDetail(record, this.reads.viewContext(context), {
        full: context.microversion.atLeast(FULL_UPDATE_RESPONSE),
        serverGroups: true,
        hostStatusLast: false,
      }),
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @Policy('os_compute_api:servers:delete', 'member')
  async delete(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.servers.delete(context, id);
  }
}
