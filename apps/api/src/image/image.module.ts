/**
 * The image API (Glance v2 subset), mounted under the configured prefix by the root module: the catalog
 * read model, the file store, the service, the seed, and the controller.
 */
import { join } from 'node:path';

import { Module } from '@nestjs/common';

import type { ApiConfig } from '../config/api.config.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { ImageCatalog } from './image-catalog.js';
import { ImageFiles } from './image-files.js';
import { ImageSeed } from './image.seed.js';
import { ImagesController } from './images.controller.js';
import { ImagesService } from './images.service.js';
import { MetadefsController } from './metadefs.controller.js';

@Module({
  controllers: [ImagesController, MetadefsController],
  providers: [
    ImageCatalog,
    ImagesService,
    ImageSeed,
    {
      provide: ImageFiles,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => new ImageFiles(config.imageDir ?? join(config.dataDir, 'images')),
    },
  ],
  exports: [ImagesService, ImageSeed],
})
export class ImageModule {}
