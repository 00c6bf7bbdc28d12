/**
 * The network API (Neutron v2.0 subset), mounted under the configured prefix by the root module: the
 * read model of networks, security groups, routers and floating IPs, the services, and the controllers. The compute API uses
 * the service for a boot's NICs and the directory for the addresses it shows.
 */
import { Module } from '@nestjs/common';

import { ExternalNetworkSeed } from './external-network.seed.js';
import { FloatingIpService } from './floating-ip.service.js';
import { FloatingIpsController } from './floating-ips.controller.js';
import { NetworkDirectory } from './network-directory.js';
import { NetworkService } from './network.service.js';
import { NetworkQuotasController } from './network-quotas.controller.js';
import { NetworksController } from './networks.controller.js';
import { RouterService } from './router.service.js';
import { RoutersController } from './routers.controller.js';
import { SecurityGroupsController } from './security-groups.controller.js';

@Module({
  controllers: [
    NetworksController,
    SecurityGroupsController,
    RoutersController,
    FloatingIpsController,
    NetworkQuotasController,
  ],
  providers: [NetworkDirectory, NetworkService, RouterService, FloatingIpService, ExternalNetworkSeed],
  exports: [NetworkDirectory, NetworkService, ExternalNetworkSeed],
})
export class NetworkModule {}
