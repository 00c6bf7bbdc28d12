/**
 * Nova's image proxy (`/v2.1/images`), which older clients use to resolve an image by name through the
 * compute endpoint: deprecated, and gone from microversion 2.36 (404), as in Nova. Reads the image API's
 * catalog with its visibility rules, and deletes through the image API's own rules.
 */
import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';

import type { ImageState } from '#libs/domain';

import { Policy } from '../common/auth/auth.guard.js';
import { notFound } from '../common/http/api-error.js';
import { Microversions } from '../common/http/microversion-range.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { eventContextOf } from '../common/http/request-state.js';
import { isoSeconds } from '../common/http/timestamps.js';
import { ImagesService } from '../image/images.service.js';
import { resourceLinks } from './links.js';
import { queryText } from '../common/validation/query.js';
import { PROXY_APIS_REMOVED } from './microversions.js';

const STATUS: Readonly<Record<ImageState['status'], string>> = {
  queued: 'SAVING',
  saving: 'SAVING',
  active: 'ACTIVE',
  deleted: 'DELETED',
};

@Controller('v2.1/images')
@Microversions({ until: PROXY_APIS_REMOVED })
export class ImageProxyController {
  constructor(
    private readonly images: ImagesService,
    private readonly publicUrl: PublicUrl,
  ) {}

  private basic(image: ImageState): Record<string, unknown> {
    return { id: image.id, name: image.name, links: resourceLinks(this.publicUrl.get(), 'images', image.id) };
  }

  private detailed(image: ImageState): Record<string, unknown> {
    return {
      id: image.id,
      name: image.name,
      minRam: image.minRam,
      minDisk: image.minDisk,
      metadata: image.properties,
      created: isoSeconds(image.createdAt ?? ''),
      updated: isoSeconds(image.updatedAt ?? ''),
      status: STATUS[image.status],
      progress: image.status === 'active' ? 100 : 25,
      links: resourceLinks(this.publicUrl.get(), 'images', image.id),
      'OS-EXT-IMG-SIZE:size': image.size ?? 0,
    };
  }

  private visible(context: CallContext, query: Record<string, unknown>): ImageState[] {
    const name = queryText(query, 'name');
    return this.images
      .list(context.principal, { limit: 1000, properties: {}, ...(name === undefined ? {} : { name }) })
      .images.slice();
  }

  @Get()
  @Policy('os_compute_api:image-metadata', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    return { images: this.visible(context, query).map((image) => this.basic(image)) };
  }

  @Get('detail')
  @Policy('os_compute_api:image-metadata', 'reader')
  detail(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    return { images: this.visible(context, query).map((image) => this.detailed(image)) };
  }

  @Get(':id')
  @Policy('os_compute_api:image-metadata', 'reader')
  show(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    try {
      return { image: this.detailed(this.images.show(context.principal, id)) };
    } catch {
      throw notFound('Image not found.');
    }
  }

  @Delete(':id')
  @HttpCode(204)
  @Policy('os_compute_api:image-metadata', 'member')
  async delete(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    const { principal, requestId } = context;
    try {
      this.images.show(principal, id);
    } catch {
      throw notFound('Image not found.');
    }
    await this.images.delete(principal, id, eventContextOf(principal, requestId));
  }
}
