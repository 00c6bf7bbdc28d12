/**
 * The compute API (Nova v2.1 subset): servers and their actions, flavors, key pairs, server groups,
 * quotas and limits, hosts (zones, hypervisors, services), instance actions, and version discovery; with
 * the server list projection and the in-memory read models these need.
 */
import { Module } from '@nestjs/common';

import { ImageModule } from '../image/image.module.js';
import { NetworkModule } from '../network/network.module.js';
import { FlavorCatalog } from './flavors/flavor-catalog.js';
import { FlavorsController } from './flavors/flavors.controller.js';
import { FlavorsService } from './flavors/flavors.service.js';
import { HostRegistry } from './hosts/host-registry.js';
import { HostsController } from './hosts/hosts.controller.js';
import { HostsService } from './hosts/hosts.service.js';
import { ImageProxyController } from './image-proxy.controller.js';
import { InstanceActionsController } from './instance-actions/instance-actions.controller.js';
import { KeypairsController } from './keypairs/keypairs.controller.js';
import { KeypairsService } from './keypairs/keypairs.service.js';
import { MetadataServer } from './metadata/metadata-server.js';
import { MetadataService } from './metadata/metadata.service.js';
import { QuotaOverrides } from './quotas/quota-overrides.js';
import { QuotasController } from './quotas/quotas.controller.js';
import { QuotasService } from './quotas/quotas.service.js';
import { ServerGroupDirectory } from './server-groups/server-group-directory.js';
import { ServerGroupsService } from './server-groups/server-groups.service.js';
import { ServerGroupsController } from './server-groups/server-groups.controller.js';
import { ServerProjection } from './servers/projection/server-projection.js';
import { ReadModelController } from './servers/read-model.controller.js';
import { ServerMetadataController } from './servers/server-metadata.controller.js';
import { ServerActionsController } from './servers/server-actions.controller.js';
import { ServersController } from './servers/servers.controller.js';
import { ServerAdmission } from './servers/server-admission.js';
import { ServerInterfacesController } from './servers/server-interfaces.controller.js';
import { ServerNics } from './servers/server-nics.js';
import { ServerVolumeAttachmentsController } from './servers/server-volume-attachments.controller.js';
import { ServerConsoles } from './servers/server-consoles.service.js';
import { ServerReads } from './servers/server-reads.js';
import { ServersService } from './servers/servers.service.js';
import { SimpleTenantUsageController } from './usage/simple-tenant-usage.controller.js';
import { VersionsController } from './versions.controller.js';
import { IdentityModule } from '../identity/identity.module.js';
import { ServersWatch } from './servers/watch/servers-watch.service.js';
import { ServersWatchController } from './servers/watch/servers-watch.controller.js';

@Module({
  imports: [ImageModule, IdentityModule, NetworkModule],
  controllers: [
    VersionsController,
    ServersWatchController,
    ServersController,
    ServerActionsController,
    ServerMetadataController,
    ServerInterfacesController,
    ServerVolumeAttachmentsController,
    InstanceActionsController,
    FlavorsController,
    KeypairsController,
    ServerGroupsController,
    QuotasController,
    HostsController,
    SimpleTenantUsageController,
    ImageProxyController,
    ReadModelController,
  ],
  providers: [
    ServerProjection,
    ServerReads,
    ServersWatch,
    ServerAdmission,
    ServerNics,
    ServersService,
    ServerConsoles,
    FlavorCatalog,
    FlavorsService,
    KeypairsService,
    MetadataService,
    MetadataServer,
    QuotaOverrides,
    QuotasService,
    ServerGroupDirectory,
    ServerGroupsService,
    HostRegistry,
    HostsService,
  ],
  exports: [ServerProjection, FlavorsService],
})
export class ComputeModule {}
