/**
 * The image API (Glance v2 subset) under its prefix: version discovery, the image schemas, list (with
 * Glance's attribute filters), show, create, update (JSON patch), tags, upload, download and delete. Thin: bodies and queries are checked here; ImagesService does the rest.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

import type { ApiConfig } from '../config/api.config.js';
import { Policy, Public } from '../common/auth/auth.guard.js';
import { isAdmin } from '../common/auth/principal.js';
import { ApiError, badRequest } from '../common/http/api-error.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { eventContextOf } from '../common/http/request-state.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { validateBody } from '../common/validation/validate.js';
import { CREATE_IMAGE, type CreateImageBody } from './image.schemas.js';
import { PATCH_V20, PATCH_V21, applyPatch, parsePatch } from './image-patch.js';
import { imageSchemaDocument, imagesSchemaDocument } from './image-schema-documents.js';
import { imageVersions, imageView } from './image.views.js';
import { type ImageAttributeFilter, type ImageQuery, ImagesService } from './images.service.js';

const KNOWN_QUERY = new Set([
  'id',
  'limit',
  'marker',
  'name',
  'status',
  'visibility',
  'owner',
  'sort_key',
  'sort_dir',
  'sort',
  'member_status',
  'os_hidden',
  'disk_format',
  'container_format',
  'checksum',
  'size',
  'size_min',
  'size_max',
  'protected',
  'tag',
]);

/** A size filter: a whole number of bytes, Glance's 400 otherwise. */
function sizeOf(value: unknown, name: string): number | undefined {
  const text = single(value, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`Invalid value for ${name}: ${text.slice(0, 32)}`);
  return Number(text);
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`Only one value is allowed for the parameter ${name}.`);
  return value;
}

function parseQuery(query: Record<string, unknown>, maxLimit: number): ImageQuery {
  const limitText = single(query['limit'], 'limit');
  let limit = 25;
  if (limitText !== undefined) {
    if (!/^\d{1,9}$/.test(limitText))
      throw badRequest(
        `Invalid value '${limitText.slice(0, 32)}' for parameter 'limit': limit param must be an integer`,
      );
    limit = Math.min(Number(limitText), maxLimit);
  }
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (KNOWN_QUERY.has(key)) continue;
    const text = single(value, key);
    if (text !== undefined) properties[key] = text;
  }
  const marker = single(query['marker'], 'marker');
  const name = single(query['name'], 'name');
  const status = single(query['status'], 'status');
  const visibility = single(query['visibility'], 'visibility');
  const owner = single(query['owner'], 'owner');
  const id = single(query['id'], 'id');
  if (visibility !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
    throw badRequest(`Invalid visibility value: ${visibility.slice(0, 32)}`);
  }
  const protectedText = single(query['protected'], 'protected');
  if (protectedText !== undefined && !['true', 'false'].includes(protectedText))
    throw badRequest(`Invalid value for protected: ${protectedText.slice(0, 32)}`);
  const tags = ([] as unknown[]).concat(query['tag'] ?? []).filter((tag) => typeof tag === 'string');
  const attributes: ImageAttributeFilter = {
    diskFormat: single(query['disk_format'], 'disk_format'),
    containerFormat: single(query['container_format'], 'container_format'),
    checksum: single(query['checksum'], 'checksum'),
    size: sizeOf(query['size'], 'size'),
    sizeMin: sizeOf(query['size_min'], 'size_min'),
    sizeMax: sizeOf(query['size_max'], 'size_max'),
    protected: protectedText === undefined ? undefined : protectedText === 'true',
    tags,
  };
  return {
    limit,
    properties,
    attributes,
    ...(marker === undefined ? {} : { marker }),
    ...(name === undefined ? {} : { name }),
    ...(status === undefined ? {} : { status }),
    ...(visibility === undefined || visibility === 'all' ? {} : { visibility }),
    ...(owner === undefined ? {} : { owner }),
    ...(id === undefined ? {} : { id }),
  };
}

@Controller()
export class ImagesController {
  constructor(
    private readonly images: ImagesService,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get()
  @Public()
  @HttpCode(300)
  versions(): Record<string, unknown> {
    return imageVersions(`${this.publicUrl.get()}${this.config.imagePrefix}`);
  }

  @Get('versions')
  @Public()
  versionList(): Record<string, unknown> {
    return imageVersions(`${this.publicUrl.get()}${this.config.imagePrefix}`);
  }

  @Get('v2/images')
  @Policy('get_images', 'reader', { allowService: true })
  list(
    @Ctx() context: CallContext,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
  ): Record<string, unknown> {
    const parsed = parseQuery(query, this.config.maxLimit);
    const page = this.images.list(context.principal, parsed);
    const search = request.url.includes('?') ? `?${request.url.split('?').slice(1).join('?')}` : '';
    const nextParams = new URLSearchParams(
      Object.entries(query).flatMap(([key, value]): [string, string][] =>
        typeof value === 'string' && key !== 'marker' ? [[key, value]] : [],
      ),
    );
    if (page.nextMarker) nextParams.set('marker', page.nextMarker);
    return {
      images: page.images.map(imageView),
      first: `/v2/images${search}`,
      schema: '/v2/schemas/images',
      ...(page.nextMarker ? { next: `/v2/images?${nextParams.toString()}` } : {}),
    };
  }

  @Get('v2/schemas/image')
  @Policy('get_image', 'reader', { allowService: true })
  imageSchema(): Record<string, unknown> {
    return imageSchemaDocument();
  }

  @Get('v2/schemas/images')
  @Policy('get_images', 'reader', { allowService: true })
  imagesSchema(): Record<string, unknown> {
    return imagesSchemaDocument();
  }

  @Get('v2/images/:id')
  @Policy('get_image', 'reader', { allowService: true })
  show(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    return imageView(this.images.show(context.principal, id));
  }

  @Post('v2/images')
  @HttpCode(201)
  @Policy('add_image', 'member')
  async create(
    @Ctx() context: CallContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<CreateImageBody>(CREATE_IMAGE, body);
    const image = await this.images.create(
      context.principal,
      request,
      eventContextOf(context.principal, context.requestId),
    );
    reply.header('Location', `${this.publicUrl.get()}${this.config.imagePrefix}/v2/images/${image.id}`);
    return imageView(image);
  }

  @Put('v2/images/:id/file')
  @HttpCode(204)
  @Policy('upload_image', 'member', { allowService: true })
  async upload(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Headers('content-length') contentLength: string | undefined,
  ): Promise<void> {
    const data = request.body;
    if (!(data instanceof Readable)) {
      throw new ApiError(415, 'Content-Type must be application/octet-stream');
    }
    const declared =
      contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : null;
    this.images.checkUpload(context.principal, id, declared);
    await this.images.upload(id, data, eventContextOf(context.principal, context.requestId));
  }

  @Get('v2/images/:id/file')
  @Policy('download_image', 'reader', { allowService: true })
  async download(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile | undefined> {
    const found = await this.images.download(context.principal, id);
    if (!found) {
      reply.code(204);
      return undefined;
    }
    if (found.image.checksum) reply.header('Content-MD5', found.image.checksum);
    return new StreamableFile(found.data, { type: 'application/octet-stream', length: found.size });
  }

  /** Glance's JSON-patch update (either media type); answers with the image as it now is. */
  @Patch('v2/images/:id')
  @Policy('modify_image', 'member')
  async update(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
  ): Promise<Record<string, unknown>> {
    const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== PATCH_V21 && mediaType !== PATCH_V20)
      throw new ApiError(415, `Unsupported Content-Type: use ${PATCH_V21}`);
    const steps = parsePatch(body, mediaType);
    const { principal } = context;
    const image = await this.images.update(
      principal,
      id,
      (attributes) => applyPatch(attributes, steps, isAdmin(principal)),
      eventContextOf(principal, context.requestId),
    );
    return imageView(image);
  }

  @Put('v2/images/:id/tags/:tag')
  @HttpCode(204)
  @Policy('modify_image', 'member')
  async addTag(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('tag') tag: string,
  ): Promise<void> {
    if (tag.length > 255) throw badRequest('Image tag must be at most 255 characters.');
    await this.images.update(
      context.principal,
      id,
      (attributes) => {
        if (attributes.tags.includes(tag)) return attributes;
        if (attributes.tags.length >= 128) throw new ApiError(413, 'Maximum tag limit exceeded.');
        return { ...attributes, tags: [...attributes.tags, tag] };
      },
      eventContextOf(context.principal, context.requestId),
    );
  }

  @Delete('v2/images/:id/tags/:tag')
  @HttpCode(204)
  @Policy('modify_image', 'member')
  async deleteTag(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('tag') tag: string,
  ): Promise<void> {
    await this.images.update(
      context.principal,
      id,
      (attributes) => {
        if (!attributes.tags.includes(tag)) throw new ApiError(404, `Tag ${tag} not found.`);
        return { ...attributes, tags: attributes.tags.filter((held) => held !== tag) };
      },
      eventContextOf(context.principal, context.requestId),
    );
  }

  @Delete('v2/images/:id')
  @HttpCode(204)
  @Policy('delete_image', 'member', { allowService: true })
  async delete(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.images.delete(context.principal, id, eventContextOf(context.principal, context.requestId));
  }
}
