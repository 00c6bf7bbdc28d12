/**
 * What a boot is, said once: the fields the API's BootServer command and the BootRequested event it
 * becomes have in common (today, all of them), with their rules. Both classes extend this group, so
 * a rule cannot drift between what the API decides on and what the store keeps.
 * Must never change without a version bump of every event that extends it: the fingerprint test
 * reads inherited rules, so it fails on a change here as on a change in the event itself.
 */
import {
  IsAvailabilityZone,
  IsDisplayName,
  IsHostName,
  IsInstanceId,
  IsKeyName,
  IsKeystoneId,
  IsOneOf,
  IsPattern,
  IsStringMap,
  NestedObject,
  Optional,
  PATTERNS,
} from '../validation.js';
import { REQUESTED_NETWORKS, type RequestedNetworks } from '../vocabulary.js';
import {
  FlavorSnapshot,
  ImageSnapshot,
  InstanceQuota,
  SERVER_METADATA_RULES,
  ServerGroupRef,
} from './values.js';

export abstract class BootFields {
  /** Chosen by the API (Nova returns the id in the 202), so a retried request can reuse it. */
  @IsInstanceId()
  readonly instanceId!: string;

  /** The owning project (not the requester: that is the envelope's actor). */
  @IsKeystoneId()
  readonly projectId!: string;

  /** The owning user, as Nova's `instance.user_id`. */
  @IsKeystoneId()
  readonly userId!: string;

  @IsDisplayName()
  readonly name!: string;

  /** The flavor and image as they were when the user asked (looked up by the API). */
  @NestedObject(() => FlavorSnapshot)
  readonly flavor!: FlavorSnapshot;

  @NestedObject(() => ImageSnapshot)
  readonly image!: ImageSnapshot;

  /** Absent: the scheduler may use any zone. */
  @Optional()
  @IsAvailabilityZone()
  readonly availabilityZone?: string;

  @IsStringMap(SERVER_METADATA_RULES)
  readonly metadata!: Readonly<Record<string, string>>;

  @Optional()
  @IsKeyName()
  readonly keyName?: string;

  @Optional()
  @NestedObject(() => ServerGroupRef)
  readonly serverGroup?: ServerGroupRef;

  /**
   * From `availability_zone=zone:host`, which Nova's policy allows to admins only: the scheduler
   * skips filtering but still claims resources.
   */
  @Optional()
  @IsHostName()
  readonly forcedHost?: string;

  @IsOneOf(REQUESTED_NETWORKS)
  readonly requestedNetworks!: RequestedNetworks;

  /**
   * The user data given at create, base64 as the user sent it (Nova's 64 KiB at most), for the
   * metadata service to hand the guest. Absent: none was given.
   */
  @Optional()
  @IsPattern(PATTERNS.base64, 'base64', 65_535)
  readonly userData?: string;

  /** The limits the API admitted this boot under; the scheduler rechecks them. Absent: no recheck. */
  @Optional()
  @NestedObject(() => InstanceQuota)
  readonly quota?: InstanceQuota;
}
