/** `/v2.1/flavors`: list, detail, show for everyone; create and delete for admins (Nova's flavor-manage). */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';

import type { ApiConfig } from '../../config/api.config.js';
import { Policy } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { badRequest } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { validateBody } from '../../common/validation/validate.js';
import { pageLinks } from '../links.js';
import { pageOf } from '../paging.js';
import { queryText } from '../../common/validation/query.js';
import { type CreateFlavorBody, createFlavorSchema } from './flavor.schemas.js';
import { flavorBasic, flavorFull } from './flavor.views.js';
import { type FlavorFilter, FlavorsService } from './flavors.service.js';

const flavorIdOf = (flavor: { readonly flavorId: string }): string => flavor.flavorId;

function integerFilter(query: Record<string, unknown>, name: string): number | undefined {
  const text = queryText(query, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw badRequest(`Invalid ${name} filter [${text.slice(0, 32)}]`);
  return Number(text);
}

@Controller('v2.1/flavors')
export class FlavorsController {
  constructor(
    private readonly flavors: FlavorsService,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Nova lists public flavors by default; only admins may ask for private ones (`is_public`). */
  private filterOf(query: Record<string, unknown>, admin: boolean): FlavorFilter {
    const page = pageOf(query, this.config.maxLimit);
    const isPublicText = queryText(query, 'is_public');
    let isPublic: boolean | null = true;
    if (admin && isPublicText !== undefined) {
      const value = isPublicText.toLowerCase();
      if (value === 'none') isPublic = null;
      else if (['true', 't', '1', 'yes', 'y', 'on'].includes(value)) isPublic = true;
      else if (['false', 'f', '0', 'no', 'n', 'off'].includes(value)) isPublic = false;
      else throw badRequest(`Invalid is_public filter [${isPublicText.slice(0, 32)}]`);
    }
    const minRam = integerFilter(query, 'minRam');
    const minDisk = integerFilter(query, 'minDisk');
    return {
      ...page,
      isPublic,
      ...(minRam === undefined ? {} : { minRam }),
      ...(minDisk === undefined ? {} : { minDisk }),
    };
  }

  @Get()
  @Policy('os_compute_api:flavors:index', 'reader')
  list(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const filter = this.filterOf(query, isAdmin(context.principal));
    const flavors = this.flavors.list(filter);
    const base = this.publicUrl.get();
    return {
      flavors: flavors.map((flavor) => flavorBasic(base, flavor, context.microversion)),
      ...pageLinks(
        'flavors_links',
        { base, collection: 'flavors', query },
        flavors,
        filter.limit,
        flavorIdOf,
      ),
    };
  }

  @Get('detail')
  @Policy('os_compute_api:flavors:index', 'reader')
  detail(@Ctx() context: CallContext, @Query() query: Record<string, unknown>): Record<string, unknown> {
    const filter = this.filterOf(query, isAdmin(context.principal));
    const flavors = this.flavors.list(filter);
    const base = this.publicUrl.get();
    return {
      flavors: flavors.map((flavor) => flavorFull(base, flavor, context.microversion)),
      ...pageLinks(
        'flavors_links',
        { base, collection: 'flavors/detail', query },
        flavors,
        filter.limit,
        flavorIdOf,
      ),
    };
  }

  @Get(':id')
  @Policy('os_compute_api:flavors:show', 'reader')
  show(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    return {
      flavor: flavorFull(
        this.publicUrl.get(),
        this.flavors.show(id, isAdmin(context.principal)),
        context.microversion,
      ),
    };
  }

  @Get(':id/os-extra_specs')
  @Policy('os_compute_api:os-flavor-extra-specs:index', 'reader')
  extraSpecs(@Ctx() context: CallContext, @Param('id') id: string): Record<string, unknown> {
    this.flavors.show(id, isAdmin(context.principal));
    return { extra_specs: {} };
  }

  @Post()
  @HttpCode(200)
  @Policy('os_compute_api:os-flavor-manage:create', 'admin')
  async create(@Ctx() context: CallContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = validateBody<CreateFlavorBody>(createFlavorSchema(context.microversion), body);
    const flavor = await this.flavors.create(
      request.flavor,
      eventContextOf(context.principal, context.requestId),
    );
    return { flavor: flavorFull(this.publicUrl.get(), flavor, context.microversion) };
  }

  @Delete(':id')
  @HttpCode(202)
  @Policy('os_compute_api:os-flavor-manage:delete', 'admin')
  async delete(@Ctx() context: CallContext, @Param('id') id: string): Promise<void> {
    await this.flavors.delete(id, eventContextOf(context.principal, context.requestId));
  }
}
