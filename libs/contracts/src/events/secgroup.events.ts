/**
 * Events of the `secgroup-<uuid>` stream: a security group and its rules (Neutron's model), so the fold
 * of one stream is the whole rule set a port's filter is built from.
 * Must never hold a rule the data plane cannot express: directions and ether types are closed sets,
 * a protocol is one of Neutron's names or an IP protocol number, and a port range only comes with a
 * protocol that has ports.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import {
  IsBoundedInt,
  IsCidr,
  IsKeystoneId,
  IsLowercaseUuid,
  IsOneOf,
  IsPattern,
  IsText,
  Nullable,
  Optional,
} from '../validation.js';

export const RULE_DIRECTIONS = ['ingress', 'egress'] as const;
export type RuleDirection = (typeof RULE_DIRECTIONS)[number];
export const ETHER_TYPES = ['IPv4', 'IPv6'] as const;
export type EtherType = (typeof ETHER_TYPES)[number];
/** The protocols a rule may name by name, as Neutron spells them. */
export const RULE_PROTOCOLS = [
  'tcp',
  'udp',
  'icmp',
  'ipv6-icmp',
  'icmpv6',
  'sctp',
  'gre',
  'esp',
  'ah',
  'vrrp',
] as const;
/** A protocol by name, or by its IANA number (0-255) kept as the text it was given in, as Neutron keeps it. */
export type RuleProtocol = string;
const PROTOCOL = new RegExp(
  `^(${RULE_PROTOCOLS.join('|')}|[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$`,
);

@DomainEvent({ type: 'SecurityGroupCreated', version: 1, category: 'secgroup' })
export class SecurityGroupCreated {
  @IsLowercaseUuid()
  readonly securityGroupId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsText(0, 255)
  readonly name!: string;

  @IsText(0, 255)
  readonly description!: string;
}

/** What an update changed; an absent field kept its value. */
@DomainEvent({ type: 'SecurityGroupUpdated', version: 1, category: 'secgroup' })
export class SecurityGroupUpdated {
  @IsLowercaseUuid()
  readonly securityGroupId!: string;

  @Optional()
  @IsText(0, 255)
  readonly name?: string;

  @Optional()
  @IsText(0, 255)
  readonly description?: string;
}

@DomainEvent({ type: 'SecurityGroupDeleted', version: 1, category: 'secgroup' })
export class SecurityGroupDeleted {
  @IsLowercaseUuid()
  readonly securityGroupId!: string;
}

@DomainEvent({ type: 'SecurityGroupRuleAdded', version: 1, category: 'secgroup' })
export class SecurityGroupRuleAdded {
  @IsLowercaseUuid()
  readonly securityGroupId!: string;

  @IsLowercaseUuid()
  readonly ruleId!: string;

  @IsOneOf(RULE_DIRECTIONS)
  readonly direction!: RuleDirection;

  @IsOneOf(ETHER_TYPES)
  readonly ethertype!: EtherType;

  /** Null: any protocol. */
  @Nullable()
  @IsPattern(PROTOCOL, 'a protocol name Neutron knows or a number from 0 to 255', 9)
  readonly protocol!: RuleProtocol | null;

  /** For tcp, udp and sctp the first port; for icmp the type. Null: any. */
  @Nullable()
  @IsBoundedInt(0, 65535)
  readonly portRangeMin!: number | null;

  /** For tcp, udp and sctp the last port; for icmp the code. Null: any. */
  @Nullable()
  @IsBoundedInt(0, 65535)
  readonly portRangeMax!: number | null;

  /** Traffic from (ingress) or to (egress) this prefix only; null with no remote group: anywhere. */
  @Nullable()
  @IsCidr()
  readonly remoteIpPrefix!: string | null;

  /** Traffic from or to the ports of this group only. */
  @Nullable()
  @IsLowercaseUuid()
  readonly remoteGroupId!: string | null;

  @IsText(0, 255)
  readonly description!: string;
}

@DomainEvent({ type: 'SecurityGroupRuleRemoved', version: 1, category: 'secgroup' })
export class SecurityGroupRuleRemoved {
  @IsLowercaseUuid()
  readonly securityGroupId!: string;

  @IsLowercaseUuid()
  readonly ruleId!: string;
}

export const SECGROUP_EVENTS = eventCatalog('secgroup', {
  SecurityGroupCreated,
  SecurityGroupUpdated,
  SecurityGroupDeleted,
  SecurityGroupRuleAdded,
  SecurityGroupRuleRemoved,
});
