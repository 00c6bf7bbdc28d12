/**
 * Events of the `instance-<uuid>` stream: a server's whole life, from the user's request through the
 * scheduler's choice and the compute agent's effects to its deletion. The instance's state is their fold.
 * Must never carry who caused an event (that is the envelope's actor): `projectId` and `userId` on
 * BootRequested are the server's owners, as Nova's `instance.project_id`/`user_id`, not the requester.
 * Upcasters for these types are registered in this file, right after their class.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
import { FixedIp, MAX_LIST } from './network.events.js';
import {
  IsBoundedInt,
  IsDisplayName,
  IsFlag,
  IsHostName,
  IsHostNameList,
  IsInstanceId,
  IsIpAddress,
  IsLowercaseUuid,
  IsMacAddress,
  IsOneOf,
  IsPattern,
  IsSha256Hex,
  IsStringMap,
  IsText,
  IsTimestamp,
  NestedArray,
  NestedObject,
  Nullable,
  Optional,
  PATTERNS,
} from '../validation.js';
import {
  CONSOLE_TYPES,
  DOMAIN_START_REASONS,
  POWER_STATES,
  POWER_STATE_SOURCES,
  REBOOT_TYPES,
  type ConsoleType,
  type DomainStartReason,
  type PowerState,
  type PowerStateSource,
  type RebootType,
} from '../vocabulary.js';
import { BootFields } from './boot-fields.js';
import { Fault, FlavorSnapshot, ImageSnapshot, SERVER_METADATA_RULES, SchedulingTrace } from './values.js';

/** The user asked for a server (`POST /servers`); the API validated it and resolved flavor and image. */
@DomainEvent({ type: 'BootRequested', version: 4, category: 'instance' })
export class BootRequested extends BootFields {}

// v1 had no `quota`: those boots were admitted by the API's check alone.
registerUpcaster('BootRequested', 1, (v1) => v1);
// v2 knew `none` and `auto` only: its boots asked for no particular network.
registerUpcaster('BootRequested', 2, (v2) => v2);
// v3 had no `userData`: those boots gave the guest none.
registerUpcaster('BootRequested', 3, (v3) => v3);

/** The scheduler claimed resources on `host` (ResourcesClaimed on the host stream) for this attempt. */
@DomainEvent({ type: 'HostSelected', version: 1, category: 'instance' })
export class HostSelected {
  @IsInstanceId()
  readonly instanceId!: string;

  /** 1-based; the scheduler appends with the expected revision, so one decision per attempt. */
  @IsBoundedInt(1)
  readonly attempt!: number;

  @IsHostName()
  readonly host!: string;

  /** Hosts to retry on, best first, not yet claimed (a retry claims afresh). */
  @IsHostNameList()
  readonly alternates!: readonly string[];

  @NestedObject(() => SchedulingTrace)
  readonly trace!: SchedulingTrace;
}

/** The compute agent started the domain, for a boot or for a start of a stopped server. */
@DomainEvent({ type: 'DomainStarted', version: 1, category: 'instance' })
export class DomainStarted {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  /** The libvirt domain name, so operators can find it with `virsh` on the host. */
  @IsPattern(PATTERNS.domainName, 'a libvirt domain name', 64)
  readonly domainName!: string;

  @IsOneOf(DOMAIN_START_REASONS)
  readonly reason!: DomainStartReason;
}

/** The compute agent could not build or start the domain for this attempt. */
@DomainEvent({ type: 'DomainStartFailed', version: 1, category: 'instance' })
export class DomainStartFailed {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  @IsBoundedInt(1)
  readonly attempt!: number;

  /** What failed, for operators; never a secret (the agent masks key paths and tokens). */
  @IsText(1, 1024)
  readonly reason!: string;

  /** False when another host cannot help (a corrupt image); the scheduler then fails the instance at once. */
  @IsFlag()
  readonly retryable!: boolean;
}

/** The instance is in ERROR: no valid host, attempts exhausted, or a non-retryable failure. */
@DomainEvent({ type: 'InstanceFailed', version: 1, category: 'instance' })
export class InstanceFailed {
  @IsInstanceId()
  readonly instanceId!: string;

  @NestedObject(() => Fault)
  readonly fault!: Fault;

  /** The last scheduling trace, when scheduling was what failed (NoValidHost). */
  @Optional()
  @NestedObject(() => SchedulingTrace)
  readonly trace?: SchedulingTrace;
}

/** The user asked to stop the server (`os-stop`). */
@DomainEvent({ type: 'StopRequested', version: 1, category: 'instance' })
export class StopRequested {
  @IsInstanceId()
  readonly instanceId!: string;
}

@DomainEvent({ type: 'DomainStopped', version: 1, category: 'instance' })
export class DomainStopped {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  /** True when the guest ignored the ACPI shutdown until the timeout and the domain was destroyed. */
  @IsFlag()
  readonly forced!: boolean;
}

/** The user asked to start a stopped server (`os-start`). */
@DomainEvent({ type: 'StartRequested', version: 1, category: 'instance' })
export class StartRequested {
  @IsInstanceId()
  readonly instanceId!: string;
}

@DomainEvent({ type: 'RebootRequested', version: 1, category: 'instance' })
export class RebootRequested {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsOneOf(REBOOT_TYPES)
  readonly type!: RebootType;
}

@DomainEvent({ type: 'DomainRebooted', version: 1, category: 'instance' })
export class DomainRebooted {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  /**
   * The reboot performed, which may differ from the one asked: a SOFT reboot the guest ignores falls back
   * to HARD, as in Nova.
   */
  @IsOneOf(REBOOT_TYPES)
  readonly type!: RebootType;
}

/**
 * The user asked to rebuild the server from an image (`rebuild`): its root disk is made anew from it on
 * the same host, with the same flavor; a server that was off stays off.
 */
@DomainEvent({ type: 'RebuildRequested', version: 1, category: 'instance' })
export class RebuildRequested {
  @IsInstanceId()
  readonly instanceId!: string;

  /** The image to rebuild from, resolved by the API as at boot. */
  @NestedObject(() => ImageSnapshot)
  readonly image!: ImageSnapshot;
}

/** The compute agent made the domain anew from the rebuild's image, and started it if it was running. */
@DomainEvent({ type: 'DomainRebuilt', version: 1, category: 'instance' })
export class DomainRebuilt {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  @IsPattern(PATTERNS.domainName, 'a libvirt domain name', 64)
  readonly domainName!: string;
}

/**
 * The user asked for the server to take another flavor (`resize`). Resizing is done on the server's
 * own host: the scheduler first makes room there for the larger of the two flavors.
 */
@DomainEvent({ type: 'ResizeRequested', version: 1, category: 'instance' })
export class ResizeRequested {
  @IsInstanceId()
  readonly instanceId!: string;

  /** The flavor to take, resolved by the API. */
  @NestedObject(() => FlavorSnapshot)
  readonly flavor!: FlavorSnapshot;
}

/** The scheduler holds the larger of the two flavors on the host (ResourcesClaimed on the host stream). */
@DomainEvent({ type: 'ResizeClaimed', version: 1, category: 'instance' })
export class ResizeClaimed {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;
}

/**
 * The compute agent gave the domain the new flavor's vCPUs and memory (and started it again if it was
 * running): the server waits for the user to confirm or revert the resize.
 */
@DomainEvent({ type: 'DomainResized', version: 1, category: 'instance' })
export class DomainResized {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;
}

/** The resize did not happen (no room on the host, or the host failed it): the server keeps its flavor. */
@DomainEvent({ type: 'ResizeFailed', version: 1, category: 'instance' })
export class ResizeFailed {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsText(1, 1024)
  readonly reason!: string;
}

/** The user kept the new flavor (`confirmResize`); the scheduler gives back what the old one held. */
@DomainEvent({ type: 'ResizeConfirmed', version: 1, category: 'instance' })
export class ResizeConfirmed {
  @IsInstanceId()
  readonly instanceId!: string;
}

/** The user asked for the old flavor back (`revertResize`). */
@DomainEvent({ type: 'ResizeRevertRequested', version: 1, category: 'instance' })
export class ResizeRevertRequested {
  @IsInstanceId()
  readonly instanceId!: string;
}

/** The compute agent gave the domain its old flavor back; the scheduler gives back the new one's room. */
@DomainEvent({ type: 'ResizeReverted', version: 1, category: 'instance' })
export class ResizeReverted {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;
}

/**
 * The user asked for an image of the server's disk (`createImage`): the API made the image record
 * (queued) and the compute agent fills it with a standalone copy of the root disk.
 */
@DomainEvent({ type: 'SnapshotRequested', version: 1, category: 'instance' })
export class SnapshotRequested {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsLowercaseUuid()
  readonly imageId!: string;
}

/** The disk's copy is the image's data: the image is active. */
@DomainEvent({ type: 'SnapshotTaken', version: 1, category: 'instance' })
export class SnapshotTaken {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsLowercaseUuid()
  readonly imageId!: string;
}

/** The copy or its upload failed; the image was deleted, the server is as it was. */
@DomainEvent({ type: 'SnapshotFailed', version: 1, category: 'instance' })
export class SnapshotFailed {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsLowercaseUuid()
  readonly imageId!: string;

  @IsText(1, 1024)
  readonly reason!: string;
}

@DomainEvent({ type: 'DeleteRequested', version: 1, category: 'instance' })
export class DeleteRequested {
  @IsInstanceId()
  readonly instanceId!: string;
}

/** The domain and its disks are gone; the last event of the stream. */
@DomainEvent({ type: 'DomainDeleted', version: 1, category: 'instance' })
export class DomainDeleted {
  @IsInstanceId()
  readonly instanceId!: string;

  /** Null when the instance never reached a host (deleted while scheduling, or failed before a claim). */
  @Nullable()
  @IsHostName()
  readonly host!: string | null;
}

/**
 * The periodic sync saw the hypervisor disagree with the last known power state
 * (Nova's `_sync_power_states`).
 */
@DomainEvent({ type: 'PowerStateChanged', version: 1, category: 'instance' })
export class PowerStateChanged {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  @IsOneOf(POWER_STATES)
  readonly from!: PowerState;

  @IsOneOf(POWER_STATES)
  readonly to!: PowerState;

  @IsOneOf(POWER_STATE_SOURCES)
  readonly source!: PowerStateSource;
}

/**
 * The instance's reference to a console token authorised for it (the design's "reference on the instance
 * stream"): deleting or stopping the instance reads these to append ConsoleRevoked for each live token.
 * The token lives on `console-<tokenHash>`; this carries only its hash.
 */
@DomainEvent({ type: 'ConsoleTokenIssued', version: 1, category: 'instance' })
export class ConsoleTokenIssued {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsSha256Hex()
  readonly tokenHash!: string;

  @IsOneOf(CONSOLE_TYPES)
  readonly consoleType!: ConsoleType;

  @IsTimestamp()
  readonly expiresAt!: string;
}

/**
 * The user renamed the server or changed its description (`PUT /servers/{id}`, or a create with a
 * description). Absent fields are unchanged; a null description clears it.
 */
@DomainEvent({ type: 'ServerUpdated', version: 1, category: 'instance' })
export class ServerUpdated {
  @IsInstanceId()
  readonly instanceId!: string;

  @Optional()
  @IsDisplayName()
  readonly name?: string;

  /** Nova's `description` (microversion 2.19): up to 255 characters, null to clear. */
  @Optional()
  @Nullable()
  @IsText(0, 255)
  readonly description?: string | null;
}

/** The server's metadata after a change (`/servers/{id}/metadata`): the whole map, not a difference. */
@DomainEvent({ type: 'ServerMetadataChanged', version: 1, category: 'instance' })
export class ServerMetadataChanged {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsStringMap(SERVER_METADATA_RULES)
  readonly metadata!: Readonly<Record<string, string>>;
}

/**
 * The addresses the user says reach the server (Nova's `accessIPv4` and `accessIPv6`, given at create or
 * by `PUT /servers/{id}`): recorded and shown, never configured anywhere. Null clears one.
 */
@DomainEvent({ type: 'ServerAccessAddressesSet', version: 1, category: 'instance' })
export class ServerAccessAddressesSet {
  @IsInstanceId()
  readonly instanceId!: string;

  @Nullable()
  @IsIpAddress(4)
  readonly accessIPv4!: string | null;

  @Nullable()
  @IsIpAddress(6)
  readonly accessIPv6!: string | null;
}

/**
 * A port of the server's network is the server's NIC: allocated for it at boot (or named by the user),
 * with its MAC and fixed addresses as the port had them then. Appended with BootRequested, in the same
 * write, so a server never exists without the NICs it was asked with.
 */
@DomainEvent({ type: 'NetworkInterfaceAttached', version: 1, category: 'instance' })
export class NetworkInterfaceAttached {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;

  @IsLowercaseUuid()
  readonly networkId!: string;

  @IsMacAddress()
  readonly macAddress!: string;

  @NestedArray(() => FixedIp, MAX_LIST)
  readonly fixedIps!: readonly FixedIp[];

  /** The user brought the port: it is unbound, not deleted, when the server goes (Nova's preserve_on_delete). */
  @IsFlag()
  readonly preserveOnDelete!: boolean;
}

/**
 * A NIC is taken off the server (Nova's interface detach). Its port is given back after this is
 * appended: deleted if it was made for the server, unbound if the user brought it.
 */
@DomainEvent({ type: 'NetworkInterfaceDetached', version: 1, category: 'instance' })
export class NetworkInterfaceDetached {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsLowercaseUuid()
  readonly portId!: string;
}

/**
 * The server is locked: actions that change it are refused (409) to anyone but an admin until it is
 * unlocked. `byAdmin`: only an admin may unlock it then, as Nova's `locked_by`.
 */
@DomainEvent({ type: 'ServerLocked', version: 1, category: 'instance' })
export class ServerLocked {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsFlag()
  readonly byAdmin!: boolean;

  /** Nova's `locked_reason` (microversion 2.73). */
  @Nullable()
  @IsText(0, 255)
  readonly reason!: string | null;
}

@DomainEvent({ type: 'ServerUnlocked', version: 1, category: 'instance' })
export class ServerUnlocked {
  @IsInstanceId()
  readonly instanceId!: string;
}

export const INSTANCE_EVENTS = eventCatalog('instance', {
  BootRequested,
  HostSelected,
  DomainStarted,
  DomainStartFailed,
  InstanceFailed,
  StopRequested,
  DomainStopped,
  StartRequested,
  RebootRequested,
  DomainRebooted,
  RebuildRequested,
  DomainRebuilt,
  ResizeRequested,
  ResizeClaimed,
  DomainResized,
  ResizeFailed,
  ResizeConfirmed,
  ResizeRevertRequested,
  ResizeReverted,
  SnapshotRequested,
  SnapshotTaken,
  SnapshotFailed,
  DeleteRequested,
  DomainDeleted,
  PowerStateChanged,
  ConsoleTokenIssued,
  ServerUpdated,
  ServerMetadataChanged,
  ServerAccessAddressesSet,
  NetworkInterfaceAttached,
  NetworkInterfaceDetached,
  ServerLocked,
  ServerUnlocked,
});
