/**
 * The API's root module: shared infrastructure, the four APIs, the guard every route passes, and the
 * start-up sequence (read models caught up, then bootstrap and seeds) that runs before the port opens.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';

import { AuditModule } from './audit/audit.module.js';
import { AuthGuard } from './common/auth/auth.guard.js';
import { CoreModule, type CoreOptions } from './common/store/core.module.js';
import { ComputeModule } from './compute/compute.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { ImageModule } from './image/image.module.js';
import { NetworkModule } from './network/network.module.js';
import { StartupSequence } from './startup.js';

@Module({})
export class ApiModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot(options),
        IdentityModule,
        ImageModule,
        NetworkModule,
        ComputeModule,
        AuditModule,
        // The image and network APIs share the port under their own prefixes, as behind a devstack proxy.
        RouterModule.register([
          { path: options.config.imagePrefix, module: ImageModule },
          { path: options.config.networkPrefix, module: NetworkModule },
        ]),
      ],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }, StartupSequence],
    };
  }
}
