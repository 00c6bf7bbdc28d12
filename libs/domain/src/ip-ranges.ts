/**
 * Address arithmetic for subnets and their pools, IPv4 and IPv6 alike: an address is a bigint, a range
 * two of them, inclusive. Parsing and formatting are ipaddr.js's; nothing here keeps state.
 */
import ipaddr from 'ipaddr.js';

import type { IpVersion } from '#libs/contracts';

export interface Prefix {
  readonly version: IpVersion;
  /** The network address (host bits zero). */
  readonly first: bigint;
  /** The last address of the prefix. */
  readonly last: bigint;
  readonly length: number;
}

export interface AddressRange {
  readonly first: bigint;
  readonly last: bigint;
}

const BITS: Readonly<Record<IpVersion, number>> = { 4: 32, 6: 128 };

/** Dotted quad of decimal octets without leading zeros: `10.0.0.010` (octal to some parsers) is refused. */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parsed(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  // IPv4 only in its four-part decimal form (ipaddr.js would also read `10.1` and `167772161`).
  if (!text.includes(':') && !IPV4.test(text)) return null;
  if (!ipaddr.isValid(text)) return null;
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d) stays IPv6, as Neutron keeps it.
  return ipaddr.parse(text);
}

export function versionOf(text: string): IpVersion | null {
  const address = parsed(text);
  if (!address) return null;
  return address.kind() === 'ipv4' ? 4 : 6;
}

export function toBigInt(text: string): bigint {
  const address = parsed(text);
  if (!address) throw new Error(`not an IP address: ${text}`);
  return address.toByteArray().reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

export function fromBigInt(value: bigint, version: IpVersion): string {
  const bytes: number[] = [];
  let rest = value;
  for (let index = 0; index < BITS[version] / 8; index += 1) {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** The canonical text of an address (IPv6 compressed and lowercase), or null when it is not one. */
export function canonicalAddress(text: string): string | null {
  const address = parsed(text);
  return address ? address.toString() : null;
}

/**
 * A prefix in CIDR notation, or why not: `host-bits` when bits beyond the prefix are set (Neutron
 * refuses `10.0.0.1/24` and recommends `10.0.0.0/24`, which `recommended` holds).
 */
export function parsePrefix(
  text: string,
):
  | { readonly prefix: Prefix }
  | { readonly error: 'invalid' }
  | { readonly error: 'host-bits'; readonly recommended: string } {
  const [address, length, ...rest] = text.split('/');
  if (address === undefined || length === undefined || rest.length > 0 || !/^\d{1,3}$/.test(length)) {
    return { error: 'invalid' };
  }
  const version = versionOf(address);
  const bits = Number(length);
  if (version === null || bits > BITS[version]) return { error: 'invalid' };
  const total = BigInt(BITS[version]);
  const hostBits = total - BigInt(bits);
  const value = toBigInt(address);
  const first = (value >> hostBits) << hostBits;
  if (first !== value) return { error: 'host-bits', recommended: `${fromBigInt(first, version)}/${bits}` };
  return { prefix: { version, first, last: first + (1n << hostBits) - 1n, length: bits } };
}

export const formatPrefix = (prefix: Prefix): string =>
  `${fromBigInt(prefix.first, prefix.version)}/${prefix.length}`;

/**
 * The addresses of a prefix a host may have: all but IPv4's network and broadcast addresses (in
 * prefixes longer than /31 they are not hosts' addresses, as Neutron holds).
 */
export function hostRange(prefix: Prefix): AddressRange {
  return prefix.version === 4 && prefix.length < 31
    ? { first: prefix.first + 1n, last: prefix.last - 1n }
    : { first: prefix.first, last: prefix.last };
}

export const contains = (range: AddressRange, value: bigint): boolean =>
  value >= range.first && value <= range.last;

export const overlaps = (a: AddressRange, b: AddressRange): boolean => a.first <= b.last && b.first <= a.last;

/**
 * The addresses a subnet can hand out when its pools are not given, as Neutron computes them: every
 * address but the network's own, IPv4's broadcast and the gateway, as one or two ranges.
 */
export function defaultPools(prefix: Prefix, gateway: bigint | null): AddressRange[] {
  const first = prefix.first + 1n;
  const last = prefix.version === 4 && prefix.length < 31 ? prefix.last - 1n : prefix.last;
  if (first > last) return [];
  if (gateway === null || !contains({ first, last }, gateway)) return [{ first, last }];
  return [
    ...(gateway > first ? [{ first, last: gateway - 1n }] : []),
    ...(gateway < last ? [{ first: gateway + 1n, last }] : []),
  ];
}

/** The first address of the ranges, in order, that `taken` does not hold; null when all are taken. */
export function firstFree(ranges: readonly AddressRange[], taken: ReadonlySet<bigint>): bigint | null {
  for (const range of ranges) {
    for (let value = range.first; value <= range.last; value += 1n) {
      if (!taken.has(value)) return value;
    }
  }
  return null;
}
