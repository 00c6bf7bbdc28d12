/**
 * `/v2.1/servers/{id}/os-volume_attachments`: Nimbus has no block storage service, so a server has no
 * volume attached. Listing answers an empty list for a server the caller may see (Horizon lists them on
 * every instance page), and showing one is Nova's 404 for a volume that is not attached.
 */
import { Controller, Get, Param } from '@nestjs/common';

import { Policy } from '../../common/auth/auth.guard.js';
import { notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { ServerReads } from './server-reads.js';

@Controller('v2.1/servers/:id/os-volume_attachments')
export class ServerVolumeAttachmentsController {
  constructor(private readonly reads: ServerReads) {}

  @Get()
  @Policy('os_compute_api:os-volumes-attachments:index', 'reader')
  async list(@Ctx() context: CallContext, @Param('id') id: string): Promise<Record<string, unknown>> {
    await this.reads.load(context, id);
    return { volumeAttachments: [] };
  }

  @Get(':volume')
  @Policy('os_compute_api:os-volumes-attachments:show', 'reader')
  async show(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('volume') volume: string,
  ): Promise<never> {
    const record = await this.reads.load(context, id);
    throw notFound(`Instance ${record.instance.id} is not attached to volume ${volume.slice(0, 64)}.`);
  }
}
