/**
 * Neutron's resource documents (networks, subnets, ports, security groups and rules, routers, floating
 * IPs) for the folded
 * states, and how Neutron lists them: any attribute as an equality filter (repeated to match any of
 * several values), `fields` to pick attributes, `sort_key`/`sort_dir`, and `limit` with `marker`.
 * Pure: everything it needs is passed in.
 */
import type {
  FloatingIpAssociation,
  FloatingIpState,
  NetworkState,
  PortState,
  RouterState,
  SecurityGroupRule,
  SecurityGroupState,
  SubnetState,
} from '#libs/domain';

import { badRequest } from '../common/http/api-error.js';
import { queryText, queryTexts } from '../common/validation/query.js';

type Document = Record<string, unknown>;

/** Neutron's timestamps: seconds, with a `Z`. */
const stamp = (at: string | null): string | null => (at === null ? null : `${at.slice(0, 19)}Z`);

const owned = (projectId: string): Document => ({ tenant_id: projectId, project_id: projectId });

export function networkView(network: NetworkState): Document {
  return {
    id: network.id,
    name: network.name,
    ...owned(network.projectId),
    admin_state_up: network.adminStateUp,
    mtu: network.mtu,
    status: 'ACTIVE',
    subnets: network.subnets.map((subnet) => subnet.id),
    shared: network.shared,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': network.external,
    is_default: false,
    port_security_enabled: true,
    l2_adjacency: true,
    description: network.description,
    tags: [],
    created_at: stamp(network.createdAt),
    updated_at: stamp(network.updatedAt),
    revision_number: 0,
  };
}

export function subnetView(subnet: SubnetState): Document {
  return {
    id: subnet.id,
    name: subnet.name,
    ...owned(subnet.projectId),
    network_id: subnet.networkId,
    ip_version: subnet.ipVersion,
    subnetpool_id: null,
    enable_dhcp: subnet.enableDhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    gateway_ip: subnet.gatewayIp,
    cidr: subnet.cidr,
    allocation_pools: subnet.allocationPools.map(({ start, end }) => ({ start, end })),
    host_routes: subnet.hostRoutes.map(({ destination, nexthop }) => ({ destination, nexthop })),
    dns_nameservers: subnet.dnsNameservers,
    description: subnet.description,
    service_types: [],
    segment_id: null,
    tags: [],
    created_at: stamp(subnet.createdAt),
    updated_at: stamp(subnet.updatedAt),
    revision_number: 0,
  };
}

export function portView(port: PortState): Document {
  return {
    id: port.id,
    name: port.name,
    network_id: port.networkId,
    ...owned(port.projectId),
    mac_address: port.macAddress,
    admin_state_up: port.adminStateUp,
    // Neutron's status is the data plane's; a port bound to a device is up once its device is.
    status: port.deviceId === '' ? 'DOWN' : 'ACTIVE',
    device_id: port.deviceId,
    device_owner: port.deviceOwner,
    fixed_ips: port.fixedIps.map((ip) => ({ subnet_id: ip.subnetId, ip_address: ip.ipAddress })),
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    security_groups: port.securityGroupIds,
    description: port.description,
    'binding:vnic_type': 'normal',
    port_security_enabled: true,
    tags: [],
    created_at: stamp(port.createdAt),
    updated_at: stamp(port.updatedAt),
    revision_number: 0,
  };
}

export function ruleView(group: SecurityGroupState, rule: SecurityGroupRule, isDefault: boolean): Document {
  return {
    id: rule.id,
    ...owned(group.projectId),
    security_group_id: group.id,
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: rule.protocol,
    port_range_min: rule.portRangeMin,
    port_range_max: rule.portRangeMax,
    remote_ip_prefix: rule.remoteIpPrefix,
    remote_group_id: rule.remoteGroupId,
    remote_address_group_id: null,
    normalized_cidr: rule.remoteIpPrefix,
    description: rule.description,
    belongs_to_default_sg: isDefault,
    tags: [],
    created_at: stamp(rule.createdAt),
    updated_at: stamp(rule.createdAt),
    revision_number: 0,
  };
}

export function securityGroupView(group: SecurityGroupState, isDefault: boolean): Document {
  return {
    id: group.id,
    name: group.name,
    ...owned(group.projectId),
    description: group.description,
    security_group_rules: group.rules.map((rule) => ruleView(group, rule, isDefault)),
    stateful: true,
    shared: false,
    tags: [],
    created_at: stamp(group.createdAt),
    updated_at: stamp(group.updatedAt),
    revision_number: 0,
  };
}

/** A router, with the addresses of its gateway port when it has one. */
export function routerView(router: RouterState, gatewayPort: PortState | undefined): Document {
  return {
    id: router.id,
    name: router.name,
    ...owned(router.projectId),
    admin_state_up: router.adminStateUp,
    status: 'ACTIVE',
    external_gateway_info: router.gateway && {
      network_id: router.gateway.networkId,
      enable_snat: router.gateway.enableSnat,
      external_fixed_ips: (gatewayPort?.fixedIps ?? []).map((ip) => ({
        subnet_id: ip.subnetId,
        ip_address: ip.ipAddress,
      })),
    },
    routes: router.routes.map(({ destination, nexthop }) => ({ destination, nexthop })),
    description: router.description,
    distributed: false,
    ha: false,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    flavor_id: null,
    tags: [],
    created_at: stamp(router.createdAt),
    updated_at: stamp(router.updatedAt),
    revision_number: 0,
  };
}

/** A floating IP with what it leads to now (nothing once its port is gone), Neutron's status with it. */
export function floatingIpView(
  floatingIp: FloatingIpState,
  association: FloatingIpAssociation | null,
): Document {
  return {
    id: floatingIp.id,
    ...owned(floatingIp.projectId),
    floating_network_id: floatingIp.floatingNetworkId,
    floating_ip_address: floatingIp.floatingIpAddress,
    fixed_ip_address: association?.fixedIpAddress ?? null,
    port_id: association?.portId ?? null,
    router_id: association?.routerId ?? null,
    status: association ? 'ACTIVE' : 'DOWN',
    description: floatingIp.description,
    dns_domain: '',
    dns_name: '',
    port_forwardings: [],
    qos_policy_id: null,
    tags: [],
    created_at: stamp(floatingIp.createdAt),
    updated_at: stamp(floatingIp.updatedAt),
    revision_number: 0,
  };
}

/** The query parameters that shape a list rather than filter it. */
const LIST_PARAMETERS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);

/** An attribute as text, to compare and sort by. */
const text = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

/** Whether a document's attribute matches a filter value, as Neutron compares them (booleans in any case). */
function matches(value: unknown, wanted: string): boolean {
  if (typeof value === 'boolean') return String(value) === wanted.toLowerCase();
  if (value === null) return wanted === '' || wanted.toLowerCase() === 'none';
  return text(value) === wanted;
}

/** `fixed_ips=ip_address=10.0.0.5` and `fixed_ips=subnet_id=<id>`: ports holding that address or subnet. */
function matchesFixedIp(value: unknown, wanted: string): boolean {
  const [key, expected] = wanted.split('=', 2);
  if (!Array.isArray(value) || expected === undefined) return false;
  return value.some((ip: Document) => text(ip[key ?? '']) === expected);
}

/** A list as Neutron answers it for the query: filtered, sorted, paged, and cut to the asked fields. */
export function listed(documents: readonly Document[], query: Readonly<Record<string, unknown>>): Document[] {
  const filters = Object.keys(query).filter((key) => !LIST_PARAMETERS.has(key));
  let result = documents.filter((document) =>
    filters.every((key) => {
      if (!(key in document)) return true;
      const wanted = queryTexts(query, key);
      return key === 'fixed_ips'
        ? wanted.every((entry) => matchesFixedIp(document[key], entry))
        : wanted.some((entry) => matches(document[key], entry));
    }),
  );
  const sortKeys = queryTexts(query, 'sort_key');
  const sortDirs = queryTexts(query, 'sort_dir');
  if (sortKeys.length > 0) {
    result = [...result].sort((a, b) => {
      for (const [index, key] of sortKeys.entries()) {
        const order = text(a[key]).localeCompare(text(b[key]));
        if (order !== 0) return sortDirs[index] === 'desc' ? -order : order;
      }
      return 0;
    });
  }
  const marker = queryText(query, 'marker');
  if (marker !== undefined) {
    const index = result.findIndex((document) => document['id'] === marker);
    if (index < 0) throw badRequest(`Marker ${marker} could not be found.`);
    result = result.slice(index + 1);
  }
  const limit = queryText(query, 'limit');
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit)) throw badRequest(`Invalid input for operation: '${limit}' is not an integer.`);
    if (Number(limit) > 0) result = result.slice(0, Number(limit));
  }
  return result.map((document) => selected(document, query));
}

/** The document cut to the `fields` asked for, if any. */
export function selected(document: Document, query: Readonly<Record<string, unknown>>): Document {
  const fields = queryTexts(query, 'fields');
  if (fields.length === 0) return document;
  return Object.fromEntries(Object.entries(document).filter(([key]) => fields.includes(key)));
}
