/**
 * Seeds the configured boot image at start: when NIMBUS_API_SEED_IMAGE names a file and the admin project
 * owns no image of the configured name yet, the file is recorded as a public image and uploaded, so a
 * fresh install can boot a server at once. Re-runs find the image and do nothing.
 */
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import type { ApiConfig } from '../config/api.config.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { bootstrapContext } from '../identity/identity.bootstrap.js';
import { ImagesService } from './images.service.js';

@Injectable()
export class ImageSeed {
  private readonly logger = new Logger(ImageSeed.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly images: ImagesService,
  ) {}

  async run(ownerProjectId: string): Promise<void> {
    const path = this.config.seedImagePath;
    if (path === undefined) return;
    const name = this.config.seedImageName;
    let image = this.images.findOwned(ownerProjectId, name);
    const context = bootstrapContext();
    if (!image) {
      image = await this.images.record(randomUUID(), context, {
        owner: ownerProjectId,
        name,
        visibility: 'public',
        diskFormat: this.config.seedImageFormat,
        containerFormat: 'bare',
        minDisk: 0,
        minRam: 0,
        protected: false,
        properties:
          this.config.seedImageHypervisorType === 'none'
            ? {}
            : { hypervisor_type: this.config.seedImageHypervisorType },
        tags: [],
      });
    }
    if (image.status === 'queued') {
      await this.images.upload(image.id, createReadStream(path), context);
      this.logger.log(`seeded image ${name} (${image.id}) from ${path}`);
    }
  }
}
