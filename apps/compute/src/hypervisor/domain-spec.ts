/**
 * What a domain is made of as the compute agent asks for it, and the names derived from an instance id.
 * Everything that later reaches a host (the libvirt domain name, file paths, virsh and qemu-img
 * arguments, domain XML) is built from values checked here, so this is where user input stops.
 * Must never accept an instance or image id that is not a lowercase UUID, and never derive a domain name
 * from anything but such an id.
 */
import { PATTERNS } from '#libs/contracts';

import { InvalidArgument } from './errors.js';
import type { DomainResources } from './hypervisor-driver.js';

/** Nimbus domains are `nimbus-<instance uuid>`; anything else on a host is not ours to touch. */
export const DOMAIN_NAME_PREFIX = 'nimbus-';

const DOMAIN_NAME_PATTERN = /^nimbus-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Buses a root disk can sit on: virtio is Nova's default for QEMU guests; IDE boots anything. */
export const DISK_BUSES = ['virtio', 'ide'] as const;
export type DiskBus = (typeof DISK_BUSES)[number];

/** Upper bounds a host could plausibly honour; they keep typos and overflow out of domain XML. */
export const SPEC_LIMITS = {
  vcpus: { min: 1, max: 1024 },
  memoryMib: { min: 16, max: 16 * 1024 * 1024 },
  rootDiskGb: { min: 0, max: 1024 * 1024 },
} as const;

/** At most this many NICs per domain, as the PCI slots of one bus left after disk, video and the rest. */
export const MAX_NICS = 16;

/** One NIC: the port it is, the network it is on, the MAC the guest sees. */
export interface DomainNic {
  readonly portId: string;
  readonly networkId: string;
  readonly macAddress: string;
}

export interface DomainSpec {
  /** The instance's UUID, which is also the libvirt domain's uuid. */
  readonly instanceId: string;
  /** `nimbus-<instanceId>`, always derived, never chosen. */
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMib: number;
  /** The base image the root disk overlays; it must be in the host's cache (ensureImage). */
  readonly imageId: string;
  /** The root disk's virtual size; 0 keeps the image's own size (Nova's flavor disk 0). */
  readonly rootDiskGb: number;
  readonly diskBus: DiskBus;
  /** In the order the guest sees them (eth0 first); each a tap on its network's bridge. */
  readonly nics: readonly DomainNic[];
}

export interface DomainSpecInput {
  readonly instanceId: string;
  readonly vcpus: number;
  readonly memoryMib: number;
  readonly imageId: string;
  readonly rootDiskGb?: number;
  readonly diskBus?: DiskBus;
  readonly nics?: readonly DomainNic[];
}

/** Builds a DomainSpec from checked values; throws InvalidArgument naming what is wrong. */
export function domainSpec(input: DomainSpecInput): DomainSpec {
  const instanceId = assertUuid(input.instanceId, 'instanceId');
  return validateDomainSpec({
    instanceId,
    name: domainNameOf(instanceId),
    vcpus: input.vcpus,
    memoryMib: input.memoryMib,
    imageId: input.imageId,
    rootDiskGb: input.rootDiskGb ?? 0,
    diskBus: input.diskBus ?? 'virtio',
    nics: input.nics ?? [],
  });
}

/**
 * Checks a spec again at the driver's door: a DomainSpec is a plain object type, so a caller could have
 * built one by hand (or read one back from somewhere) without going through domainSpec().
 */
export function validateDomainSpec(spec: DomainSpec): DomainSpec {
  assertUuid(spec.instanceId, 'instanceId');
  assertImageId(spec.imageId);
  if (spec.name !== domainNameOf(spec.instanceId)) {
    throw new InvalidArgument(
      `domain name must be ${domainNameOf(spec.instanceId)}, derived from the instance id`,
    );
  }
  assertIntegerIn(spec.vcpus, 'vcpus', SPEC_LIMITS.vcpus);
  assertIntegerIn(spec.memoryMib, 'memoryMib', SPEC_LIMITS.memoryMib);
  assertIntegerIn(spec.rootDiskGb, 'rootDiskGb', SPEC_LIMITS.rootDiskGb);
  if (!(DISK_BUSES as readonly string[]).includes(spec.diskBus)) {
    throw new InvalidArgument(`diskBus must be one of ${DISK_BUSES.join(', ')}`);
  }
  validateNics(spec.nics);
  return spec;
}

/** Each NIC's ids and MAC in their exact forms, and no port or MAC twice. */
export function validateNics(nics: readonly DomainNic[]): readonly DomainNic[] {
  // Typed, but a spec may have been read back from somewhere: the list itself is checked too.
  const list: unknown = nics;
  if (!Array.isArray(list) || nics.length > MAX_NICS) {
    throw new InvalidArgument(`nics must be a list of at most ${MAX_NICS}`);
  }
  for (const nic of nics) {
    assertUuid(nic.portId, 'nic portId');
    assertUuid(nic.networkId, 'nic networkId');
    if (typeof nic.macAddress !== 'string' || !PATTERNS.macAddress.test(nic.macAddress)) {
      throw new InvalidArgument('nic macAddress must be six lowercase colon-separated octets');
    }
  }
  if (new Set(nics.map((nic) => nic.portId)).size !== nics.length) {
    throw new InvalidArgument('a port can be only one NIC');
  }
  if (new Set(nics.map((nic) => nic.macAddress)).size !== nics.length) {
    throw new InvalidArgument('two NICs cannot share a MAC address');
  }
  return nics;
}

/** What turns the NICs `held` into `wanted`: a NIC is the same one when its port and MAC are. */
export function nicChanges(
  held: readonly DomainNic[],
  wanted: readonly DomainNic[],
): { readonly added: readonly DomainNic[]; readonly removed: readonly DomainNic[] } {
  const same = (a: DomainNic, b: DomainNic) => a.portId === b.portId && a.macAddress === b.macAddress;
  return {
    added: wanted.filter((nic) => !held.some((each) => same(each, nic))),
    removed: held.filter((each) => !wanted.some((nic) => same(each, nic))),
  };
}

/** The tap a port's NIC is on: Neutron's name, `tap` and the port id's first 11 characters. */
export function tapNameOf(portId: string): string {
  return `tap${assertUuid(portId, 'portId').slice(0, 11)}`;
}

/** A wait before an operation forces its way (powerOff, resize): a whole number of ms, 0 for none. */
export function assertTimeoutMs(value: number, operation: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgument(`${operation} timeoutMs must be a non-negative integer`);
  }
}

/** Checks a resize's target size against the same limits a spec has. */
export function validateDomainResources(size: DomainResources): DomainResources {
  assertIntegerIn(size.vcpus, 'vcpus', SPEC_LIMITS.vcpus);
  assertIntegerIn(size.memoryMib, 'memoryMib', SPEC_LIMITS.memoryMib);
  return size;
}

export function domainNameOf(instanceId: string): string {
  return `${DOMAIN_NAME_PREFIX}${assertUuid(instanceId, 'instanceId')}`;
}

/** The instance id a Nimbus domain name carries, or undefined for any other name. */
export function instanceIdOf(domainName: string): string | undefined {
  return DOMAIN_NAME_PATTERN.exec(domainName)?.[1];
}

/**
 * Checks that a domain name is one Nimbus derived, and returns its instance id. Every driver operation
 * that takes a name calls this first, so a hostile or foreign name never reaches a host.
 */
export function assertDomainName(domainName: string): string {
  const instanceId = typeof domainName === 'string' ? instanceIdOf(domainName) : undefined;
  if (instanceId === undefined) {
    throw new InvalidArgument(`not a Nimbus domain name (expected ${DOMAIN_NAME_PREFIX}<lowercase uuid>)`);
  }
  return instanceId;
}

export function assertUuid(value: string, what: string): string {
  if (typeof value !== 'string' || !PATTERNS.uuid.test(value)) {
    throw new InvalidArgument(`${what} must be a lowercase UUID`);
  }
  return value;
}

/** Image ids are Glance ids: lowercase UUIDs. They name files in the host's image cache. */
export function assertImageId(value: string): string {
  return assertUuid(value, 'image id');
}

function assertIntegerIn(value: number, what: string, range: { min: number; max: number }): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new InvalidArgument(`${what} must be an integer from ${range.min} to ${range.max}`);
  }
}
