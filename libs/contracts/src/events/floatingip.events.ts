/**
 * Events of the `floatingip-<uuid>` stream: a floating IP (Neutron's L3 model), an address of an
 * external network that a project holds and may point at one fixed IP of one of its ports. The address
 * itself is a port on the external network's stream (device owner `network:floatingip`, device id the
 * floating IP's), so the network's fold still decides every address in it.
 * Must never hold an association without the router that reaches it: the router is named when the
 * association is decided, and the data plane translates through that router only.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsAnyIpAddress, IsKeystoneId, IsLowercaseUuid, IsText, Optional } from '../validation.js';

@DomainEvent({ type: 'FloatingIpCreated', version: 1, category: 'floatingip' })
export class FloatingIpCreated {
  @IsLowercaseUuid()
  readonly floatingIpId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  /** The external network the address is on. */
  @IsLowercaseUuid()
  readonly floatingNetworkId!: string;

  /** The port on that network that holds the address. */
  @IsLowercaseUuid()
  readonly addressPortId!: string;

  @IsAnyIpAddress()
  readonly floatingIpAddress!: string;

  @IsText(0, 255)
  readonly description!: string;
}

/** What an update changed; an absent field kept its value. */
@DomainEvent({ type: 'FloatingIpUpdated', version: 1, category: 'floatingip' })
export class FloatingIpUpdated {
  @IsLowercaseUuid()
  readonly floatingIpId!: string;

  @Optional()
  @IsText(0, 255)
  readonly description?: string;
}

/** The address now leads to `fixedIpAddress` of `portId`, through `routerId`. */
@DomainEvent({ type: 'FloatingIpAssociated', version: 1, category: 'floatingip' })
export class FloatingIpAssociated {
  @IsLowercaseUuid()
  readonly floatingIpId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  @IsAnyIpAddress()
  readonly fixedIpAddress!: string;

  @IsLowercaseUuid()
  readonly routerId!: string;
}

@DomainEvent({ type: 'FloatingIpDisassociated', version: 1, category: 'floatingip' })
export class FloatingIpDisassociated {
  @IsLowercaseUuid()
  readonly floatingIpId!: string;
}

/** The floating IP is gone; its address port is deleted from the external network after this. */
@DomainEvent({ type: 'FloatingIpDeleted', version: 1, category: 'floatingip' })
export class FloatingIpDeleted {
  @IsLowercaseUuid()
  readonly floatingIpId!: string;
}

export const FLOATINGIP_EVENTS = eventCatalog('floatingip', {
  FloatingIpCreated,
  FloatingIpUpdated,
  FloatingIpAssociated,
  FloatingIpDisassociated,
  FloatingIpDeleted,
});
