/**
 * The domain commands the API decides on: `decide(command, state)` in libs/domain turns each into events
 * (BootServer into BootRequested, StopServer into StopRequested, ...). Their fields are what the API has
 * validated and resolved from the REST request (flavor and image looked up, ids lowercased).
 * Must never carry the requester (actor, request id): those travel beside the command and land in the
 * events' envelope, so one decider serves users and services alike.
 */
import { Command } from '../registry.js';
import {
  IsDisplayName,
  IsHostName,
  IsInstanceId,
  IsKeystoneId,
  IsOneOf,
  IsPattern,
  IsStringMap,
  NestedObject,
  Optional,
  PATTERNS,
} from '../validation.js';
import { REBOOT_TYPES, REQUESTED_NETWORKS, type RebootType, type RequestedNetworks } from '../vocabulary.js';
import {
  FlavorSnapshot,
  ImageSnapshot,
  InstanceQuota,
  SERVER_METADATA_RULES,
  ServerGroupRef,
} from '../events/values.js';

/** `POST /servers`, after validation and the flavor and image lookups. */
@Command({ name: 'BootServer', version: 1, target: 'api' })
export class BootServer {
  /** Chosen by the API (Nova returns the id in the 202), so a retried request can reuse it. */
  @IsInstanceId()
  readonly instanceId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsKeystoneId()
  readonly userId!: string;

  @IsDisplayName()
  readonly name!: string;

  @NestedObject(() => FlavorSnapshot)
  readonly flavor!: FlavorSnapshot;

  @NestedObject(() => ImageSnapshot)
  readonly image!: ImageSnapshot;

  @Optional()
  @IsPattern(PATTERNS.availabilityZone, 'an availability zone name (letters, digits, "_", ".", "-")')
  readonly availabilityZone?: string;

  @IsStringMap(SERVER_METADATA_RULES)
  readonly metadata!: Readonly<Record<string, string>>;

  @Optional()
  @IsPattern(PATTERNS.keyName, 'a keypair name (letters, digits, space, "@", ".", "_", "-")')
  readonly keyName?: string;

  @Optional()
  @NestedObject(() => ServerGroupRef)
  readonly serverGroup?: ServerGroupRef;

  /** From `availability_zone=zone:host`, which Nova's policy allows to admins only. */
  @Optional()
  @IsHostName()
  readonly forcedHost?: string;

  @IsOneOf(REQUESTED_NETWORKS)
  readonly requestedNetworks!: RequestedNetworks;

  /** The project's instance limits the boot was admitted under. */
  @Optional()
  @NestedObject(() => InstanceQuota)
  readonly quota?: InstanceQuota;
}

/** `POST /servers/{id}/action {"os-stop": null}` */
@Command({ name: 'StopServer', version: 1, target: 'api' })
export class StopServer {
  @IsInstanceId()
  readonly instanceId!: string;
}

/** `POST /servers/{id}/action {"os-start": null}` */
@Command({ name: 'StartServer', version: 1, target: 'api' })
export class StartServer {
  @IsInstanceId()
  readonly instanceId!: string;
}

/** `POST /servers/{id}/action {"reboot": {"type": "SOFT"}}` */
@Command({ name: 'RebootServer', version: 1, target: 'api' })
export class RebootServer {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsOneOf(REBOOT_TYPES)
  readonly type!: RebootType;
}

/** `DELETE /servers/{id}` */
@Command({ name: 'DeleteServer', version: 1, target: 'api' })
export class DeleteServer {
  @IsInstanceId()
  readonly instanceId!: string;
}
