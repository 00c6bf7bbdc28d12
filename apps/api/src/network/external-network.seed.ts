/**
 * Makes the external network at start when NIMBUS_API_EXTERNAL_NETWORK_CIDR is set: a network of the
 * admin project marked `router:external`, with one IPv4 subnet of that range (gateway its first
 * address, no DHCP), as a cloud's `public` network is. The ids are derived from the name, so API
 * replicas starting together meet on one stream and make it once; a later start finds it and does
 * nothing, and one whose range changed keeps the first (a network in use is never remade behind its
 * users' backs).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';

import { decideCreateNetwork, decideCreateSubnet } from '#libs/domain';

import { API_CONFIG } from '../common/store/tokens.js';
import type { ApiConfig } from '../config/api.config.js';
import { bootstrapContext } from '../identity/identity.bootstrap.js';
import { derivedId } from './derived-id.js';
import { NetworkDirectory } from './network-directory.js';
import { NetworkService } from './network.service.js';

@Injectable()
export class ExternalNetworkSeed {
  private readonly logger = new Logger(ExternalNetworkSeed.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly directory: NetworkDirectory,
    private readonly networks: NetworkService,
  ) {}

  async run(ownerProjectId: string): Promise<void> {
    const cidr = this.config.externalNetworkCidr;
    if (cidr === undefined) return;
    const name = this.config.externalNetworkName;
    const networkId = derivedId('external-network', name);
    if ((this.directory.network(networkId)?.subnets.length ?? 0) > 0) return;
    const context = bootstrapContext();
    // Each step decides on the stream as it is, so a replica that made either part first wins.
    await this.networks.onNetwork(
      networkId,
      (state) =>
        state.exists
          ? []
          : decideCreateNetwork(state, {
              networkId,
              projectId: ownerProjectId,
              name,
              description: 'External network: router gateways and floating IPs',
              shared: false,
              external: true,
              adminStateUp: true,
              mtu: 1500,
            }),
      context,
    );
    await this.networks.onNetwork(
      networkId,
      (state) =>
        state.subnets.length > 0 || state.deleted
          ? []
          : decideCreateSubnet(state, {
              subnetId: derivedId('external-subnet', name),
              projectId: ownerProjectId,
              name: `${name}-subnet`,
              description: '',
              ipVersion: 4,
              cidr,
              enableDhcp: false,
              dnsNameservers: [],
            }),
      context,
    );
    this.logger.log(`the external network ${name} (${networkId}) is on ${cidr}`);
  }
}
