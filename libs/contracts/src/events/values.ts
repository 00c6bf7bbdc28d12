/**
 * Value objects nested in events and commands: the flavor and image as they were when the user asked, a
 * server group reference, a scheduling trace, a fault.
 * Must never hold a reference that needs a lookup to be understood later: flavors and images change or
 * vanish after a boot, so events carry the values the decision used (Nova keeps `instance.flavor` for the
 * same reason). Changing a class here changes the fingerprint of every event that nests it.
 */
import {
  IsBoundedInt,
  IsDisplayName,
  IsFiniteNumber,
  IsFlavorId,
  IsGib,
  IsHostName,
  IsHostNameList,
  IsLowercaseUuid,
  IsMib,
  IsOneOf,
  IsPattern,
  IsText,
  MAX_TRACE_HOSTS,
  NestedArray,
  NestedObject,
  Nullable,
  Optional,
  PATTERNS,
} from '../validation.js';
import {
  CPU_ARCHITECTURES,
  HYPERVISOR_TYPES,
  SERVER_GROUP_POLICIES,
  type CpuArchitecture,
  type HypervisorType,
  type ServerGroupPolicy,
} from '../vocabulary.js';

/** Nova's server metadata rules: its key pattern, 255-character values, the default quota of 128 items. */
export const SERVER_METADATA_RULES = {
  maxEntries: 128,
  keyPattern: PATTERNS.metadataKey,
  maxValueLength: 255,
} as const;

/**
 * A project's instance limits as the API enforced them when it accepted a boot (-1: unlimited). The
 * scheduler checks the boot against them once more, counting only the project's servers requested
 * before it, so boots racing for the last slot cannot all get it.
 */
export class InstanceQuota {
  @IsBoundedInt(-1)
  readonly instances!: number;

  @IsBoundedInt(-1)
  readonly cores!: number;

  /** MiB. */
  @IsBoundedInt(-1)
  readonly ramMb!: number;
}

/** The flavor's resources at boot time; claims and domain XML are sized from this, not from a lookup. */
export class FlavorSnapshot {
  @IsFlavorId()
  readonly id!: string;

  @IsDisplayName()
  readonly name!: string;

  @IsBoundedInt(1)
  readonly vcpus!: number;

  @IsMib()
  readonly ramMb!: number;

  /** 0 means "size the root disk from the image", as in Nova. */
  @IsGib()
  readonly diskGb!: number;
}

/** The image properties the scheduler's ImagePropertiesFilter matches against hosts. */
export class ImageProperties {
  @Optional()
  @IsOneOf(CPU_ARCHITECTURES)
  readonly architecture?: CpuArchitecture;

  @Optional()
  @IsOneOf(HYPERVISOR_TYPES)
  readonly hypervisorType?: HypervisorType;
}

export class ImageSnapshot {
  @IsLowercaseUuid()
  readonly id!: string;

  /** Glance allows unnamed images. */
  @Nullable()
  @IsText(0, 255)
  readonly name!: string | null;

  @NestedObject(() => ImageProperties)
  readonly properties!: ImageProperties;
}

export class ServerGroupRef {
  @IsLowercaseUuid()
  readonly id!: string;

  @IsOneOf(SERVER_GROUP_POLICIES)
  readonly policy!: ServerGroupPolicy;
}

/**
 * How many hosts of a rejection a trace names. Traces stay small at any cloud size: the count is
 * always exact, the names are the first ones, enough to answer "why not there".
 */
export const MAX_TRACE_REJECTED = 50;

/** One filter's verdict, in the order the filters ran. */
export class FilterStep {
  /** The filter's class name, as Nova logs it (`ComputeFilter`, `RamFilter`). */
  @IsPattern(PATTERNS.pascalCase, 'a filter class name in PascalCase', 64)
  readonly filter!: string;

  /** What Nova logs as "Filter X returned N host(s)". */
  @IsBoundedInt(0, 1_000_000)
  readonly remaining!: number;

  /** How many hosts this filter removed. */
  @IsBoundedInt(0, 1_000_000)
  readonly rejectedCount!: number;

  /** The first of them, at most MAX_TRACE_REJECTED. */
  @IsHostNameList(MAX_TRACE_REJECTED)
  readonly rejected!: readonly string[];
}

export class WeighedHost {
  @IsHostName()
  readonly host!: string;

  /** The normalised, multiplied sum of all weighers; higher is better. */
  @IsFiniteNumber()
  readonly weight!: number;
}

/** Why the scheduler chose what it chose: operators read it to answer "why did my server land there". */
export class SchedulingTrace {
  /** Hosts considered before any filter ran. */
  @IsBoundedInt(0, 1_000_000)
  readonly hostsIn!: number;

  @NestedArray(() => FilterStep, 64)
  readonly filters!: readonly FilterStep[];

  /** The best hosts that passed every filter, best first (the winner and its alternates at least). */
  @NestedArray(() => WeighedHost, MAX_TRACE_HOSTS)
  readonly weighed!: readonly WeighedHost[];
}

/** What Nova shows as a server's `fault` when it is in ERROR. */
export class Fault {
  /** An HTTP-style status: 500 for internal failures, 4xx when the request could never succeed. */
  @IsBoundedInt(400, 599)
  readonly code!: number;

  /** Shown to the user, so it says what failed without internals (Nova truncates to 255). */
  @IsText(1, 255)
  readonly message!: string;

  /** Operator-facing detail (a trace or the underlying error), never shown to non-admin users. */
  @Optional()
  @IsText(0, 65_535)
  readonly details?: string;
}
