/**
 * Events of the `network-<uuid>` stream: a network, its subnets and its ports (Neutron's model). Ports
 * live on their network's stream so that the fold of one stream decides every address in it: two ports
 * can never be given the same address, because each allocation is appended with the stream revision
 * the decision read.
 * Must never hold an address outside its subnet: the domain decides every fixed IP from the subnet's
 * pools, or checks the one a request names against them.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import {
  IsAnyIpAddress,
  IsBoundedInt,
  IsCidr,
  IsFlag,
  IsIpAddressList,
  IsKeystoneId,
  IsLowercaseUuid,
  IsMacAddress,
  IsOneOf,
  IsText,
  IsUuidList,
  NestedArray,
  Nullable,
  Optional,
} from '../validation.js';

/** Neutron's limits: names and descriptions of 255 characters, device ids and owners of 255. */
const TEXT = 255;
export const IP_VERSIONS = [4, 6] as const;
export type IpVersion = (typeof IP_VERSIONS)[number];
/** At most this many pools, DNS servers or fixed IPs on one subnet or port (Neutron's defaults are lower). */
export const MAX_LIST = 32;

/** A range of addresses DHCP and port creation may hand out, inclusive at both ends. */
export class AllocationPool {
  @IsAnyIpAddress()
  readonly start!: string;

  @IsAnyIpAddress()
  readonly end!: string;
}

/** A route DHCP hands the subnet's hosts: traffic to `destination` goes through `nexthop`. */
export class HostRoute {
  @IsCidr()
  readonly destination!: string;

  @IsAnyIpAddress()
  readonly nexthop!: string;
}

/** One address of a port, on one subnet of the port's network. */
export class FixedIp {
  @IsLowercaseUuid()
  readonly subnetId!: string;

  @IsAnyIpAddress()
  readonly ipAddress!: string;
}

@DomainEvent({ type: 'NetworkCreated', version: 1, category: 'network' })
export class NetworkCreated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  /** The owning project (Neutron's `project_id`). */
  @IsKeystoneId()
  readonly projectId!: string;

  @IsText(0, TEXT)
  readonly name!: string;

  @IsText(0, TEXT)
  readonly description!: string;

  /** Every project may use it (Neutron's `shared`, which only an admin may set). */
  @IsFlag()
  readonly shared!: boolean;

  /** Reachable from outside the cloud: floating IPs and router gateways come from it (`router:external`). */
  @IsFlag()
  readonly external!: boolean;

  @IsFlag()
  readonly adminStateUp!: boolean;

  @IsBoundedInt(68, 9000)
  readonly mtu!: number;
}

/** What a network update changed; an absent field kept its value. */
@DomainEvent({ type: 'NetworkUpdated', version: 1, category: 'network' })
export class NetworkUpdated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @Optional()
  @IsText(0, TEXT)
  readonly name?: string;

  @Optional()
  @IsText(0, TEXT)
  readonly description?: string;

  @Optional()
  @IsFlag()
  readonly shared?: boolean;

  @Optional()
  @IsFlag()
  readonly external?: boolean;

  @Optional()
  @IsFlag()
  readonly adminStateUp?: boolean;

  @Optional()
  @IsBoundedInt(68, 9000)
  readonly mtu?: number;
}

/** The network is gone, with whatever subnets it still had; it held no ports but DHCP's. */
@DomainEvent({ type: 'NetworkDeleted', version: 1, category: 'network' })
export class NetworkDeleted {
  @IsLowercaseUuid()
  readonly networkId!: string;
}

@DomainEvent({ type: 'SubnetCreated', version: 1, category: 'network' })
export class SubnetCreated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly subnetId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsText(0, TEXT)
  readonly name!: string;

  @IsText(0, TEXT)
  readonly description!: string;

  @IsOneOf(IP_VERSIONS)
  readonly ipVersion!: IpVersion;

  /** With its host bits zero. */
  @IsCidr()
  readonly cidr!: string;

  /** Null: the subnet has no gateway (Neutron's `gateway_ip: null`). */
  @Nullable()
  @IsAnyIpAddress()
  readonly gatewayIp!: string | null;

  @NestedArray(() => AllocationPool, MAX_LIST)
  readonly allocationPools!: readonly AllocationPool[];

  @IsFlag()
  readonly enableDhcp!: boolean;

  @IsIpAddressList(MAX_LIST)
  readonly dnsNameservers!: readonly string[];

  @NestedArray(() => HostRoute, MAX_LIST)
  readonly hostRoutes!: readonly HostRoute[];
}

/** What a subnet update changed; an absent field kept its value. */
@DomainEvent({ type: 'SubnetUpdated', version: 1, category: 'network' })
export class SubnetUpdated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly subnetId!: string;

  @Optional()
  @IsText(0, TEXT)
  readonly name?: string;

  @Optional()
  @IsText(0, TEXT)
  readonly description?: string;

  @Optional()
  @IsFlag()
  readonly enableDhcp?: boolean;

  @Optional()
  @IsIpAddressList(MAX_LIST)
  readonly dnsNameservers?: readonly string[];

  @Optional()
  @NestedArray(() => HostRoute, MAX_LIST)
  readonly hostRoutes?: readonly HostRoute[];

  /** Null: the subnet no longer has a gateway. */
  @Optional()
  @Nullable()
  @IsAnyIpAddress()
  readonly gatewayIp?: string | null;
}

/** The subnet is gone; no port held an address on it any more. */
@DomainEvent({ type: 'SubnetDeleted', version: 1, category: 'network' })
export class SubnetDeleted {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly subnetId!: string;
}

@DomainEvent({ type: 'PortCreated', version: 1, category: 'network' })
export class PortCreated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsText(0, TEXT)
  readonly name!: string;

  @IsText(0, TEXT)
  readonly description!: string;

  @IsMacAddress()
  readonly macAddress!: string;

  @NestedArray(() => FixedIp, MAX_LIST)
  readonly fixedIps!: readonly FixedIp[];

  /** What uses the port: a server's id, a router's, or empty (Neutron's `device_id`). */
  @IsText(0, TEXT)
  readonly deviceId!: string;

  /** `compute:<zone>` for a server's NIC, `network:router_interface`, ... (Neutron's `device_owner`). */
  @IsText(0, TEXT)
  readonly deviceOwner!: string;

  @IsFlag()
  readonly adminStateUp!: boolean;

  @IsUuidList(MAX_LIST)
  readonly securityGroupIds!: readonly string[];
}

/** What a port update changed; an absent field kept its value. */
@DomainEvent({ type: 'PortUpdated', version: 1, category: 'network' })
export class PortUpdated {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  /** The port's owner, which on a shared network is not the network's. */
  @IsKeystoneId()
  readonly projectId!: string;

  @Optional()
  @IsText(0, TEXT)
  readonly name?: string;

  @Optional()
  @IsText(0, TEXT)
  readonly description?: string;

  @Optional()
  @IsText(0, TEXT)
  readonly deviceId?: string;

  @Optional()
  @IsText(0, TEXT)
  readonly deviceOwner?: string;

  @Optional()
  @IsFlag()
  readonly adminStateUp?: boolean;

  @Optional()
  @IsUuidList(MAX_LIST)
  readonly securityGroupIds?: readonly string[];

  /** The port's addresses after the change, all of them. */
  @Optional()
  @NestedArray(() => FixedIp, MAX_LIST)
  readonly fixedIps?: readonly FixedIp[];
}

/** The port is gone and its addresses are free again. */
@DomainEvent({ type: 'PortDeleted', version: 1, category: 'network' })
export class PortDeleted {
  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  /** The port's owner, which on a shared network is not the network's. */
  @IsKeystoneId()
  readonly projectId!: string;
}

export const NETWORK_EVENTS = eventCatalog('network', {
  NetworkCreated,
  NetworkUpdated,
  NetworkDeleted,
  SubnetCreated,
  SubnetUpdated,
  SubnetDeleted,
  PortCreated,
  PortUpdated,
  PortDeleted,
});
