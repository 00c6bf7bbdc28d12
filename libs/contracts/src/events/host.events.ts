/**
 * Events of the `host-<name>` stream: a hypervisor host's registration, inventory, enablement and the
 * resource claims against it. The scheduler folds this stream to know free capacity, and appends claims
 * with the expected revision it read, so two schedulers cannot both take the last slot.
 * Must never carry ephemeral signals (heartbeats, liveness): those go to NATS only, never to the store.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
import {
  IsAllocationRatio,
  IsAvailabilityZone,
  IsBoundedInt,
  IsGib,
  IsHostName,
  IsInstanceId,
  IsMib,
  IsOneOf,
  IsText,
  Optional,
} from '../validation.js';
import {
  CPU_ARCHITECTURES,
  HOST_HYPERVISOR_TYPES,
  RESOURCE_RELEASE_REASONS,
  type CpuArchitecture,
  type HostHypervisorType,
  type ResourceReleaseReason,
} from '../vocabulary.js';

/** A compute agent took charge of a host for the first time (or again after its record was lost). */
@DomainEvent({ type: 'HostRegistered', version: 2, category: 'host' })
export class HostRegistered {
  @IsHostName()
  readonly host!: string;

  @IsAvailabilityZone()
  readonly availabilityZone!: string;

  @IsOneOf(HOST_HYPERVISOR_TYPES)
  readonly hypervisorType!: HostHypervisorType;

  @IsOneOf(CPU_ARCHITECTURES)
  readonly cpuArch!: CpuArchitecture;
}

// v1 knew libvirt's types only; every v1 value is a v2 value.
registerUpcaster('HostRegistered', 1, (v1) => v1);

/**
 * The host's totals as the agent measured them, and its operator-configured ratios and reservations.
 * Capacity per resource is (total - reserved) * ratio, as Nova's placement computes it. Appended when a
 * value changes, not periodically, so the stream stays short.
 */
@DomainEvent({ type: 'InventoryReported', version: 1, category: 'host' })
export class InventoryReported {
  @IsHostName()
  readonly host!: string;

  @IsBoundedInt(1)
  readonly vcpus!: number;

  @IsMib()
  readonly ramMb!: number;

  @IsBoundedInt(1)
  readonly diskGb!: number;

  @IsAllocationRatio()
  readonly vcpuAllocationRatio!: number;

  @IsAllocationRatio()
  readonly ramAllocationRatio!: number;

  @IsAllocationRatio()
  readonly diskAllocationRatio!: number;

  /** Nova's reserved_host_cpus. */
  @IsBoundedInt(0)
  readonly reservedVcpus!: number;

  /** Nova's reserved_host_memory_mb (its default is 512). */
  @IsBoundedInt(0)
  readonly reservedRamMb!: number;

  /** Nova's reserved_host_disk_mb, in GiB like every disk amount here. */
  @IsGib()
  readonly reservedDiskGb!: number;
}

/** The scheduler reserved the flavor's resources on this host for one attempt at one instance. */
@DomainEvent({ type: 'ResourcesClaimed', version: 1, category: 'host' })
export class ResourcesClaimed {
  @IsHostName()
  readonly host!: string;

  @IsInstanceId()
  readonly instanceId!: string;

  @IsBoundedInt(1)
  readonly attempt!: number;

  @IsBoundedInt(1)
  readonly vcpus!: number;

  @IsMib()
  readonly ramMb!: number;

  @IsGib()
  readonly diskGb!: number;
}

/** The instance's claim on this host is given back; a host holds at most one claim per instance. */
@DomainEvent({ type: 'ResourcesReleased', version: 1, category: 'host' })
export class ResourcesReleased {
  @IsHostName()
  readonly host!: string;

  @IsInstanceId()
  readonly instanceId!: string;

  @IsOneOf(RESOURCE_RELEASE_REASONS)
  readonly reason!: ResourceReleaseReason;
}

/** An operator put the host back into scheduling. */
@DomainEvent({ type: 'HostEnabled', version: 1, category: 'host' })
export class HostEnabled {
  @IsHostName()
  readonly host!: string;

  @Optional()
  @IsText(1, 255)
  readonly reason?: string;
}

/** An operator took the host out of scheduling (Nova's `disabled_reason`); its instances keep running. */
@DomainEvent({ type: 'HostDisabled', version: 1, category: 'host' })
export class HostDisabled {
  @IsHostName()
  readonly host!: string;

  @Optional()
  @IsText(1, 255)
  readonly reason?: string;
}

export const HOST_EVENTS = eventCatalog('host', {
  HostRegistered,
  InventoryReported,
  ResourcesClaimed,
  ResourcesReleased,
  HostEnabled,
  HostDisabled,
});
