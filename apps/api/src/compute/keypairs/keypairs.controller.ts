/**
 * `/v2.1/os-keypairs`: a user's key pairs (an admin may name another user with `user_id` from 2.10).
 * Status codes and fields follow the microversion as in Nova: 200/202 at 2.1, 201/204 from 2.2, `type`
 * from 2.2, paging from 2.35.
 */
import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';

import type { ApiConfig } from '../../config/api.config.js';
import { Policy } from '../../common/auth/auth.guard.js';
import { userUnderPolicy } from '../../common/auth/owner.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { naiveMicros } from '../../common/http/timestamps.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { validateBody } from '../../common/validation/validate.js';
import { pageLinks } from '../links.js';
import { pageAfter, pageOf } from '../paging.js';
import { queryText } from '../../common/validation/query.js';
import { type CreateKeypairBody, createKeypairSchema } from './keypair.schemas.js';
import { KeypairsService } from './keypairs.service.js';
import { KEYPAIRS_OF_OTHER_USERS, KEYPAIR_PAGING, KEYPAIR_TYPE } from '../microversions.js';

/** Nova shows a database id; this one is stable for the (user, name) pair. */
const numericId = (userId: string, name: string): number =>
  createHash('sha256').update(`${userId}\u0000${name}`).digest().readUInt32BE(0) & 0x7fffffff;

@Controller('v2.1/os-keypairs')
export class KeypairsController {
  constructor(
    private readonly keypairs: KeypairsService,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** The user whose key pairs are meant: the caller's own, or (2.10+, admins) the `user_id` given. */
  private userOf(context: CallContext, requested: string | undefined, rule: string): string {
    const named = context.microversion.atLeast(KEYPAIRS_OF_OTHER_USERS) ? requested : undefined;
    return userUnderPolicy(context.principal, named, rule);
  }

  @Post()
  @Policy('os_compute_api:os-keypairs:create', 'reader')
  async create(
    @Ctx() context: CallContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const { keypair } = validateBody<CreateKeypairBody>(createKeypairSchema(context.microversion), body);
    const userId = this.userOf(context, keypair.user_id, 'os_compute_api:os-keypairs:create');
    const created = await this.keypairs.create(
      userId,
      context.principal.projectId,
      {
        name: keypair.name,
        ...(keypair.public_key === undefined ? {} : { publicKey: keypair.public_key }),
        ...(keypair.type === undefined ? {} : { type: keypair.type }),
      },
      eventContextOf(context.principal, context.requestId),
    );
    const typed = context.microversion.atLeast(KEYPAIR_TYPE);
    reply.code(typed ? 201 : 200);
    return {
      keypair: {
        ...(created.privateKey === undefined ? {} : { private_key: created.privateKey }),
        ...(typed ? { type: created.type } : {}),
        name: created.name,
        public_key: created.publicKey,
        fingerprint: created.fingerprint,
        user_id: created.userId,
      },
    };
  }

  @Get()
  @Policy('os_compute_api:os-keypairs:index', 'reader')
  async list(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const userId = this.userOf(context, queryText(query, 'user_id'), 'os_compute_api:os-keypairs:index');
    const all = await this.keypairs.list(userId);
    const page = context.microversion.atLeast(KEYPAIR_PAGING) ? pageOf(query, this.config.maxLimit) : null;
    const keypairs = page
      ? pageAfter(
          all,
          page,
          (keypair) => keypair.name,
          (marker) => `Marker ${marker} could not be found.`,
        )
      : all;
    const typed = context.microversion.atLeast(KEYPAIR_TYPE);
    return {
      keypairs: keypairs.map((keypair) => ({
        keypair: {
          name: keypair.name,
          public_key: keypair.publicKey,
          fingerprint: keypair.fingerprint,
          ...(typed ? { type: keypair.type } : {}),
        },
      })),
      ...(page
        ? pageLinks(
            'keypairs_links',
            { base: this.publicUrl.get(), collection: 'os-keypairs', query },
            keypairs,
            page.limit,
            (keypair) => keypair.name,
          )
        : {}),
    };
  }

  @Get(':name')
  @Policy('os_compute_api:os-keypairs:show', 'reader')
  async show(
    @Ctx() context: CallContext,
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const userId = this.userOf(context, queryText(query, 'user_id'), 'os_compute_api:os-keypairs:show');
    const keypair = await this.keypairs.show(userId, name);
    return {
      keypair: {
        name: keypair.name,
        public_key: keypair.publicKey,
        fingerprint: keypair.fingerprint,
        user_id: userId,
        created_at: naiveMicros(keypair.createdAt),
        deleted: false,
        deleted_at: null,
        id: numericId(userId, keypair.name),
        updated_at: null,
        ...(context.microversion.atLeast(KEYPAIR_TYPE) ? { type: keypair.type } : {}),
      },
    };
  }

  @Delete(':name')
  @Policy('os_compute_api:os-keypairs:delete', 'reader')
  async delete(
    @Ctx() context: CallContext,
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const userId = this.userOf(context, queryText(query, 'user_id'), 'os_compute_api:os-keypairs:delete');
    await this.keypairs.delete(userId, name, eventContextOf(context.principal, context.requestId));
    reply.code(context.microversion.atLeast(KEYPAIR_TYPE) ? 204 : 202);
  }
}
