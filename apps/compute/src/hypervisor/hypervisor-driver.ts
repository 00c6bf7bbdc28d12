/**
 * The port between the compute agent and the hypervisors it serves: Nova's ComputeDriver in spirit
 * (nova/virt/driver.py), async and host-scoped because one agent drives many hosts. The agent's handlers
 * call only this; the libvirt-over-SSH adapter (libvirt/) and the in-memory fake (fake/) implement it,
 * and both pass the same contract suite (contract/driver-contract.ts).
 * Must never leak an adapter's concepts (SSH, virsh, file layouts) into its types, and every operation
 * must be safe to repeat: a restarted agent redoes whatever it was doing when it died.
 */
import type { Duplex } from 'node:stream';

import type { PowerState, RebootType } from '#libs/contracts';

import type { DomainNic, DomainSpec } from './domain-spec.js';
import type { GuestNetwork } from './guest-network.js';
import type { GuestRouting } from './guest-routing.js';

/** A domain's power state in the contracts' vocabulary, or `absent` when the host has no such domain. */
export type DomainPowerState = PowerState | 'absent';

/** States in which the guest is not executing, so starting it is the way back to running. */
export function isPoweredOff(state: PowerState): boolean {
  return state === 'shutoff' || state === 'crashed' || state === 'nostate';
}

export type ImageChecksumAlgorithm = 'sha256' | 'sha512';

/** Glance's `os_hash_algo` / `os_hash_value` pair (Glance defaults to sha512). */
/** What a NIC sync changed on the domain: the ports plugged in and taken out. */
export interface NicChanges {
  readonly attached: readonly string[];
  readonly detached: readonly string[];
}

export interface ImageChecksum {
  readonly algorithm: ImageChecksumAlgorithm;
  /** Lowercase hex digest. */
  readonly hex: string;
}

/** A base image to put in a host's cache: a qcow2 file on the agent's own machine. */
export interface ImageSource {
  /** The Glance image id (lowercase UUID); the cache is keyed by it. */
  readonly id: string;
  /** Absolute path of the image file on the agent's machine. */
  readonly sourcePath: string;
  /** When given, the file must be exactly this long. */
  readonly sizeBytes?: number;
  /** When given, the bytes copied must have this digest. */
  readonly checksum?: ImageChecksum;
}

export interface CachedImage {
  readonly imageId: string;
  readonly sizeBytes: number;
  /**
   * True only for the call that copied the bytes; false when the image was already cached or when this
   * call waited for a concurrent call that copied it.
   */
  readonly uploaded: boolean;
}

export interface SpawnResult {
  readonly domainName: string;
  /** False when the domain already existed (a redo after a restart): it was only started if it was off. */
  readonly created: boolean;
}

export interface PowerOffOptions {
  /** How long the guest gets to shut down after the ACPI request before it is destroyed; 0 forces at once. */
  readonly timeoutMs: number;
}

export interface PowerOffResult {
  /** True when the guest did not shut down in time and the domain was destroyed (DomainStopped.forced). */
  readonly forced: boolean;
}

export interface RebootOptions {
  /** How long a SOFT reboot may take before it falls back to HARD; the driver has a default. */
  readonly softTimeoutMs?: number;
}

export interface RebootResult {
  /** The reboot performed, which may be HARD when SOFT was asked (DomainRebooted.type). */
  readonly type: RebootType;
}

/** The size of a domain: what a flavor gives it besides its disk. */
export interface DomainResources {
  readonly vcpus: number;
  readonly memoryMib: number;
}

export interface ResizeOptions {
  /** How long the guest gets to shut down before it is destroyed, as for powerOff. */
  readonly timeoutMs: number;
  /** Whether the domain is started once it has its new size (a server that was off stays off). */
  readonly running: boolean;
}

export interface ExportedDisk {
  readonly sizeBytes: number;
}

export interface DestroyResult {
  /** False when there was no domain to destroy (its leftover files, if any, are still removed). */
  readonly existed: boolean;
}

/** One domain as the host reports it, Nimbus's or not. */
export interface DomainSummary {
  readonly name: string;
  readonly uuid: string;
  /** The instance this domain belongs to, or null when the domain is not one Nimbus created. */
  readonly instanceId: string | null;
  readonly powerState: PowerState;
}

/** Where a domain's VNC server listens, seen from the host: always its loopback. */
export interface VncEndpoint {
  readonly address: '127.0.0.1';
  readonly port: number;
}

export interface ConsoleOutputOptions {
  /** Only the last this many lines (Nova's os-getConsoleOutput `length`); all that is kept otherwise. */
  readonly length?: number;
}

/** What a host offers, for InventoryReported. */
export interface HostInventory {
  readonly vcpus: number;
  readonly memoryMib: number;
  /** Size of the file system holding the instances, in whole GiB. */
  readonly diskGbTotal: number;
  /** Free space on it, in whole GiB. */
  readonly diskGbFree: number;
}

export interface HypervisorDriver {
  /**
   * Puts a base image in the host's cache unless it is there already; concurrent calls for the same
   * host and image share one copy. Verifies the declared size and checksum, and refuses anything but a
   * standalone qcow2 (no backing file of its own).
   */
  ensureImage(host: string, image: ImageSource): Promise<CachedImage>;

  /**
   * Creates the domain's root disk as a qcow2 overlay on the cached base, defines the domain and starts
   * it. Idempotent: a domain that already exists with this name and uuid is not defined again, only
   * started if it is not running.
   */
  spawn(host: string, spec: DomainSpec): Promise<SpawnResult>;

  /**
   * Serves a guest network on the host: its DHCP server set to hand each port its address, its ports'
   * filters set to their security groups. A host that has the network at a newer revision keeps it.
   * With `refresh`, a network the host no longer has a guest on is left alone (not made again).
   * Idempotent.
   */
  ensureNetwork(host: string, network: GuestNetwork, options?: { readonly refresh?: boolean }): Promise<void>;

  /**
   * Serves a network's routers on the host: each one's interface there, its gateway on the external
   * network with SNAT and its floating IPs; a router no longer on the network loses its interface
   * there. A host that has read a router's streams at newer revisions keeps what it has. With
   * `refresh`, a network the host no longer has a guest on is left alone. Idempotent.
   */
  ensureRouting(host: string, routing: GuestRouting, options?: { readonly refresh?: boolean }): Promise<void>;

  /**
   * Brings a defined domain's NICs to `nics` (a port attached to or detached from the server): a NIC
   * added goes into the running guest at once (hot-plugged, its tap made and put on its bridge) and
   * into the domain's definition, one removed comes out of both and its tap goes; a domain that is
   * off has its definition changed only. Nothing to do when they match or the domain does not exist
   * (a spawn defines it with its NICs). Idempotent.
   */
  syncNics(host: string, domainName: string, nics: readonly DomainNic[]): Promise<NicChanges>;

  /** Asks the guest to shut down, waits up to `timeoutMs`, then destroys it. Already off is success. */
  powerOff(host: string, domainName: string, options: PowerOffOptions): Promise<PowerOffResult>;

  /** Starts a stopped domain (resumes a paused one). Already running is success. */
  powerOn(host: string, domainName: string): Promise<void>;

  /** SOFT asks the guest and falls back to HARD on failure or timeout; HARD is a power cycle. */
  reboot(host: string, domainName: string, type: RebootType, options?: RebootOptions): Promise<RebootResult>;

  /**
   * Gives the domain these vCPUs and this memory: powers it off, changes its definition, and starts it
   * when `running`. A domain that has that size already is only started or stopped to match `running`.
   * An absent domain is DomainNotFound.
   */
  resize(host: string, domainName: string, size: DomainResources, options: ResizeOptions): Promise<void>;

  /** The vCPUs and memory the domain is defined with. An absent domain is DomainNotFound. */
  domainResources(host: string, domainName: string): Promise<DomainResources>;

  /**
   * Writes a standalone qcow2 copy of the domain's root disk (its overlay flattened onto the base) to
   * `destination` on the agent's machine, replacing any file there. A running domain is copied as it
   * runs, so the copy is as consistent as a power cut would leave it. An absent domain is DomainNotFound.
   */
  exportDisk(host: string, domainName: string, destination: string): Promise<ExportedDisk>;

  /** Stops and undefines the domain and removes its disk and logs. An absent domain is success. */
  destroy(host: string, domainName: string): Promise<DestroyResult>;

  powerState(host: string, domainName: string): Promise<DomainPowerState>;

  /** Every domain on the host, Nimbus's and others (the reconciler looks for ones the store does not know). */
  listDomains(host: string): Promise<readonly DomainSummary[]>;

  /** The running domain's VNC server on the host's loopback, for the console proxy's tunnel. */
  vncEndpoint(host: string, domainName: string): Promise<VncEndpoint>;

  /** The tail of the domain's serial console log. */
  consoleOutput(host: string, domainName: string, options?: ConsoleOutputOptions): Promise<string>;

  inventory(host: string): Promise<HostInventory>;

  /** Releases connections and timers; the driver is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * A byte stream to a domain's VNC server through the agent's own connection to the host, so the console
 * path needs no listener on the host's public addresses. Kept apart from HypervisorDriver because it is
 * a transport, not a hypervisor operation; both drivers offer it.
 */
export interface VncTunnels {
  openVncTunnel(host: string, endpoint: VncEndpoint): Promise<Duplex>;
}
