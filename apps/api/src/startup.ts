/**
 * The start-up sequence, run before the port opens: the read models and the server projection catch up
 * with the store, then the identity bootstrap and the flavor, image and external network seeds run (they read those models
 * to stay idempotent). A failure here stops the process rather than serve from half-built state.
 */
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { ReadModelHub } from './common/store/read-model-hub.js';
import { FlavorsService } from './compute/flavors/flavors.service.js';
import { ServerProjection } from './compute/servers/projection/server-projection.js';
import { IdentityBootstrap, bootstrapContext } from './identity/identity.bootstrap.js';
import { ImageSeed } from './image/image.seed.js';
import { ExternalNetworkSeed } from './network/external-network.seed.js';

@Injectable()
export class StartupSequence implements OnApplicationBootstrap {
  private readonly logger = new Logger(StartupSequence.name);

  constructor(
    private readonly hub: ReadModelHub,
    private readonly projection: ServerProjection,
    private readonly identity: IdentityBootstrap,
    private readonly flavors: FlavorsService,
    private readonly images: ImageSeed,
    private readonly externalNetwork: ExternalNetworkSeed,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([this.hub.start(), this.projection.start()]);
    const adminProject = await this.identity.run();
    await this.flavors.seed(bootstrapContext());
    await this.images.run(adminProject);
    await this.externalNetwork.run(adminProject);
    this.logger.log('read models are current; bootstrap and seeds are done');
  }
}
