/**
 * The closed sets of words that contracts share (power states, architectures, reasons), each as a const
 * list for validation and a union type for code, so the two can never drift apart.
 * Must never widen a set casually: adding a value changes every schema that uses it (the fingerprint test
 * will ask for a version bump, because an older reader would reject the new value).
 */

/**
 * Power states as `virsh domstate` reports them, in Nova's vocabulary. The compute agent maps libvirt's
 * `blocked` (idle) to running and `pmsuspended` to suspended, as Nova's libvirt driver does.
 */
export const POWER_STATES = [
  'nostate',
  'running',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'suspended',
] as const;
export type PowerState = (typeof POWER_STATES)[number];

/** CPU architectures in Nova's spelling (nova.objects.fields.Architecture), the ones QEMU can host. */
export const CPU_ARCHITECTURES = ['x86_64', 'i686', 'aarch64', 'armv7l', 'ppc64le', 's390x'] as const;
export type CpuArchitecture = (typeof CPU_ARCHITECTURES)[number];

/** Hypervisor types as images name them (`img_hv_type`) and libvirt hosts report them. */
export const HYPERVISOR_TYPES = ['qemu', 'kvm'] as const;
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];

/**
 * What a host reports: a libvirt hypervisor type, or `fake` for the fake driver's simulated hosts (as
 * Nova's fake driver reports itself). No image asks for `fake`, so a boot that names a hypervisor type
 * never lands on a simulated host.
 */
export const HOST_HYPERVISOR_TYPES = [...HYPERVISOR_TYPES, 'fake'] as const;
export type HostHypervisorType = (typeof HOST_HYPERVISOR_TYPES)[number];

export const REBOOT_TYPES = ['SOFT', 'HARD'] as const;
export type RebootType = (typeof REBOOT_TYPES)[number];

export const SERVER_GROUP_POLICIES = ['affinity', 'anti-affinity'] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];

/**
 * What a boot asked of networking: Nova's `networks` keywords (microversion 2.37), or `explicit` for a
 * list of networks, ports and fixed IPs (each NIC is then recorded by NetworkInterfaceAttached).
 */
export const REQUESTED_NETWORKS = ['none', 'auto', 'explicit'] as const;
export type RequestedNetworks = (typeof REQUESTED_NETWORKS)[number];

export const CONSOLE_TYPES = ['novnc'] as const;
export type ConsoleType = (typeof CONSOLE_TYPES)[number];

export const DOMAIN_START_REASONS = ['boot', 'start'] as const;
export type DomainStartReason = (typeof DOMAIN_START_REASONS)[number];

export const RESOURCE_RELEASE_REASONS = ['failed', 'deleted', 'rescheduled'] as const;
export type ResourceReleaseReason = (typeof RESOURCE_RELEASE_REASONS)[number];

/**
 * Why a console token ends. Every way a domain's VNC server goes away is one: its port may be handed
 * to another domain afterwards, so a token must never outlive the server process it was issued for.
 */
export const CONSOLE_REVOKE_REASONS = [
  'instance-deleted',
  'instance-stopped',
  'instance-rebooted',
  'power-state-changed',
  'expired',
  'operator',
] as const;
export type ConsoleRevokeReason = (typeof CONSOLE_REVOKE_REASONS)[number];

/** What observed a power state change; only the periodic sync today (Nova's `_sync_power_states`). */
export const POWER_STATE_SOURCES = ['sync'] as const;
export type PowerStateSource = (typeof POWER_STATE_SOURCES)[number];

export const ACTOR_KINDS = ['user', 'service'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** Where a command is handled: the API's own deciders, the scheduler, or the compute agent owning a host. */
export const COMMAND_TARGETS = ['api', 'scheduler', 'compute'] as const;
export type CommandTarget = (typeof COMMAND_TARGETS)[number];
