/**
 * Events of the `router-<uuid>` stream: a router's own attributes, its extra routes and its external
 * gateway (Neutron's L3 model). The ports a router uses are not here: its interfaces and its gateway
 * port live on their networks' streams (device owner `network:router_interface` or
 * `network:router_gateway`, device id the router's), so each network's fold still decides every
 * address in it.
 * Must never hold a gateway without the port that carries it: RouterGatewaySet names the gateway port,
 * which is allocated on the external network before the event is appended.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsFlag, IsKeystoneId, IsLowercaseUuid, IsText, NestedArray, Optional } from '../validation.js';
import { HostRoute, MAX_LIST } from './network.events.js';

@DomainEvent({ type: 'RouterCreated', version: 1, category: 'router' })
export class RouterCreated {
  @IsLowercaseUuid()
  readonly routerId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsText(0, 255)
  readonly name!: string;

  @IsText(0, 255)
  readonly description!: string;

  @IsFlag()
  readonly adminStateUp!: boolean;
}

/** What an update changed; an absent field kept its value. */
@DomainEvent({ type: 'RouterUpdated', version: 1, category: 'router' })
export class RouterUpdated {
  @IsLowercaseUuid()
  readonly routerId!: string;

  @Optional()
  @IsText(0, 255)
  readonly name?: string;

  @Optional()
  @IsText(0, 255)
  readonly description?: string;

  @Optional()
  @IsFlag()
  readonly adminStateUp?: boolean;

  /** The extra routes, all of them (Neutron's `routes` is replaced whole); each next hop is on an interface. */
  @Optional()
  @NestedArray(() => HostRoute, MAX_LIST)
  readonly routes?: readonly HostRoute[];
}

/** The router's way out: a port on an external network, and whether traffic leaving through it is SNATed. */
@DomainEvent({ type: 'RouterGatewaySet', version: 1, category: 'router' })
export class RouterGatewaySet {
  @IsLowercaseUuid()
  readonly routerId!: string;

  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  @IsFlag()
  readonly enableSnat!: boolean;
}

/** The gateway is gone; its port is deleted from the external network after this is appended. */
@DomainEvent({ type: 'RouterGatewayCleared', version: 1, category: 'router' })
export class RouterGatewayCleared {
  @IsLowercaseUuid()
  readonly routerId!: string;
}

/** The router is gone; it had no interfaces left, and its gateway port is deleted after this. */
@DomainEvent({ type: 'RouterDeleted', version: 1, category: 'router' })
export class RouterDeleted {
  @IsLowercaseUuid()
  readonly routerId!: string;
}

export const ROUTER_EVENTS = eventCatalog('router', {
  RouterCreated,
  RouterUpdated,
  RouterGatewaySet,
  RouterGatewayCleared,
  RouterDeleted,
});
