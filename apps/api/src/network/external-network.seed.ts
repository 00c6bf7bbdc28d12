/**
 * Makes the external network at start when NIMBUS_API_EXTERNAL_NETWORK_CIDR is set: a network of the
 * admin project marked `router:external`, with one IPv4 subnet of that range (gateway its first
 * address, no DHCP), as a cloud's `public` network is. The ids are derived from the name, so API
 * replicas starting together meet on one stream and make it once; a later start finds it and does
 * nothing, and one whose range changed keeps the first (a network in use is never remade behind its
 * users' backs).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import { decideCreateNetwork, decideCreateSubnet, networkReducer } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { ReadModelHub } from '../common/store/read-model-hub.js';
import { API_CONFIG } from '../common/store/tokens.js';
import type { ApiConfig } from '../config/api.config.js';
import { bootstrapContext } from '../identity/identity.bootstrap.js';
import { derivedId } from './derived-id.js';

@Injectable()
export class ExternalNetworkSeed {
  private readonly logger = new Logger(ExternalNetworkSeed.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  async run(ownerProjectId: string): Promise<void> {
    const cidr = this.config.externalNetworkCidr;
    if (cidr === undefined) return;
    const name = this.config.externalNetworkName;
    const networkId = derivedId('external-network', name);
    const subnetId = derivedId('external-subnet', name);
    const stream = streamFor('network', networkId);
    const context = bootstrapContext();
    const network = await this.store.execute(
      stream,
      networkReducer,
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
    const { appended } = await this.store.execute(
      stream,
      networkReducer,
      (state) =>
        state.subnets.length > 0 || state.deleted
          ? []
          : decideCreateSubnet(state, {
              subnetId,
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
    await this.hub.waitFor(appended?.position);
    if (network.appended || appended)
      this.logger.log(`made the external network ${name} (${networkId}) on ${cidr}`);
  }
}
