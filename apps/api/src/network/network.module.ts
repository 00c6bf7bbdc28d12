/**
 * The network API (Neutron v2.0 subset), mounted under the configured prefix by the root module: the
 * read model of networks and security groups, the service, and the controllers. The compute API uses
 * the service for a boot's NICs and the directory for the addresses it shows.
 */
import { Module } from '@nestjs/common';

import { NetworkDirectory } from './network-directory.js';
import { NetworkService } from './network.service.js';
import { NetworkQuotasController } from './network-quotas.controller.js';
import { NetworksController } from './networks.controller.js';
import { SecurityGroupsController } from './security-groups.controller.js';

@Module({
  controllers: [NetworksController, SecurityGroupsController, NetworkQuotasController],
  providers: [NetworkDirectory, NetworkService],
  exports: [NetworkDirectory, NetworkService],
})
export class NetworkModule {}
