/**
 * What the audit feed shows of each event type, decided once per type: which project an event belongs to
 * (so a tenant reads its own project's events only) and which payload fields an auditor may see. The table
 * is keyed by every event type in libs/contracts, so a new type does not compile until someone decides.
 * Must never let a secret through: `secret` fields are dropped for every reader, admins included; the
 * password hashes of identity events never leave the store.
 */
import { EVENT_CATALOG, type EventMetadata, streamFor } from '#libs/contracts';

/** Who reads: an admin (every project, operator detail) or a project's member or reader. */
export type Audience = 'admin' | 'project';

/** How an event's project is found. */
export type Ownership =
  /** The payload names it, in this field (null there: the cloud's own). */
  | { readonly by: 'field'; readonly field: string }
  /** The project of the stream's first event (an instance's later events belong to its owner). */
  | { readonly by: 'stream' }
  /** The project of the instance the payload's `instanceId` names. */
  | { readonly by: 'instance' }
  /** The project the actor's token was scoped to (key pairs belong to a user, asked for in a project). */
  | { readonly by: 'actor' }
  /** The cloud's own (hosts, flavors, users, token revocations): admins only. */
  | { readonly by: 'none' };

export interface EventVisibility {
  readonly owner: Ownership;
  /** Dot paths dropped for every reader. */
  readonly secret: readonly string[];
  /** Dot paths only admins see: where servers run and why, as Nova hides hosts from tenants. */
  readonly operator: readonly string[];
}

type EventType = keyof typeof EVENT_CATALOG;

const field = (name: string): Ownership => ({ by: 'field', field: name });
const STREAM: Ownership = { by: 'stream' };
const NONE: Ownership = { by: 'none' };
const open = (owner: Ownership, operator: readonly string[] = []): EventVisibility => ({
  owner,
  secret: [],
  operator,
});

export const AUDIT_VISIBILITY: Readonly<Record<EventType, EventVisibility>> = {
  // instance-<uuid>: the server's owner project; hosts and the scheduler's reasoning are the operator's.
  // User data often carries credentials for the guest: it goes to the guest, not to the feed.
  BootRequested: { owner: field('projectId'), secret: ['userData'], operator: ['forcedHost'] },
  HostSelected: open(STREAM, ['host', 'alternates', 'trace']),
  DomainStarted: open(STREAM, ['host', 'domainName']),
  DomainStartFailed: open(STREAM, ['host', 'reason']),
  InstanceFailed: open(STREAM, ['fault.details']),
  StopRequested: open(STREAM),
  DomainStopped: open(STREAM, ['host']),
  StartRequested: open(STREAM),
  RebootRequested: open(STREAM),
  DomainRebooted: open(STREAM, ['host']),
  RebuildRequested: open(STREAM),
  DomainRebuilt: open(STREAM, ['host', 'domainName']),
  ResizeRequested: open(STREAM),
  ResizeClaimed: open(STREAM, ['host']),
  DomainResized: open(STREAM, ['host']),
  ResizeFailed: open(STREAM, ['reason']),
  ResizeConfirmed: open(STREAM),
  ResizeRevertRequested: open(STREAM),
  ResizeReverted: open(STREAM, ['host']),
  SnapshotRequested: open(STREAM),
  SnapshotTaken: open(STREAM),
  SnapshotFailed: open(STREAM, ['reason']),
  DeleteRequested: open(STREAM),
  DomainDeleted: open(STREAM, ['host']),
  PowerStateChanged: open(STREAM, ['host']),
  ConsoleTokenIssued: open(STREAM),
  ServerUpdated: open(STREAM),
  ServerMetadataChanged: open(STREAM),
  ServerAccessAddressesSet: open(STREAM),
  ServerLocked: open(STREAM),
  NetworkInterfaceAttached: open(STREAM),
  NetworkInterfaceDetached: open(STREAM),
  ServerUnlocked: open(STREAM),
  // host-<name>: capacity and claims of the cloud's hosts.
  HostRegistered: open(NONE),
  InventoryReported: open(NONE),
  ResourcesClaimed: open(NONE),
  ResourcesReleased: open(NONE),
  HostEnabled: open(NONE),
  HostDisabled: open(NONE),
  // console-<sha256>: the token's hash only ever; where its VNC server listens is the operator's.
  ConsoleAuthorized: open(field('projectId'), ['host', 'port']),
  ConsoleRevoked: open({ by: 'instance' }),
  // Identity: projects and role assignments are the project's; users and their passwords are not.
  ProjectCreated: open(field('projectId')),
  ProjectUpdated: open(field('projectId')),
  ProjectDisabled: open(field('projectId')),
  ProjectEnabled: open(field('projectId')),
  ProjectDeleted: open(field('projectId')),
  UserCreated: { owner: NONE, secret: ['passwordHash'], operator: [] },
  UserPasswordChanged: { owner: NONE, secret: ['passwordHash'], operator: [] },
  UserUpdated: open(NONE),
  UserDisabled: open(NONE),
  UserEnabled: open(NONE),
  UserDeleted: open(NONE),
  RoleAssigned: open(field('projectId')),
  RoleUnassigned: open(field('projectId')),
  ApplicationCredentialCreated: { owner: field('projectId'), secret: ['secretHash'], operator: [] },
  ApplicationCredentialDeleted: open(field('projectId')),
  IdentityDomainCreated: open(NONE),
  IdentityDomainUpdated: open(NONE),
  IdentityDomainDeleted: open(NONE),
  RoleCreated: open(NONE),
  RoleDeleted: open(NONE),
  TokenRevoked: open(NONE),
  // image-<uuid>: its owner project (public images included: others see them in the catalogue, not here).
  ImageCreated: open(field('owner')),
  ImageUpdated: open(STREAM),
  ImageUploadStarted: open(STREAM),
  ImageUploadFailed: open(STREAM),
  ImageActivated: open(STREAM),
  ImageDeleted: open(STREAM),
  FlavorCreated: open(NONE),
  FlavorDeleted: open(NONE),
  KeypairCreated: open({ by: 'actor' }),
  KeypairDeleted: open({ by: 'actor' }),
  ServerGroupCreated: open(field('projectId')),
  ServerGroupDeleted: open(STREAM),
  QuotaLimitsSet: open(field('projectId')),
  NetworkQuotaLimitsSet: open(field('projectId')),
  // network-<uuid>: the network's owner; a shared network's ports and subnets are their own project's.
  NetworkCreated: open(field('projectId')),
  NetworkUpdated: open(STREAM),
  NetworkDeleted: open(STREAM),
  SubnetCreated: open(field('projectId')),
  SubnetUpdated: open(STREAM),
  SubnetDeleted: open(STREAM),
  PortCreated: open(field('projectId')),
  PortUpdated: open(field('projectId')),
  PortDeleted: open(field('projectId')),
  SecurityGroupCreated: open(field('projectId')),
  SecurityGroupUpdated: open(STREAM),
  SecurityGroupDeleted: open(STREAM),
  SecurityGroupRuleAdded: open(STREAM),
  SecurityGroupRuleRemoved: open(STREAM),
  RouterCreated: open(field('projectId')),
  RouterUpdated: open(STREAM),
  RouterGatewaySet: open(STREAM),
  RouterGatewayCleared: open(STREAM),
  RouterDeleted: open(STREAM),
  FloatingIpCreated: open(field('projectId')),
  FloatingIpUpdated: open(STREAM),
  FloatingIpAssociated: open(STREAM),
  FloatingIpDisassociated: open(STREAM),
  FloatingIpDeleted: open(STREAM),
};

export function visibilityOf(type: string): EventVisibility {
  const visibility = Object.hasOwn(AUDIT_VISIBILITY, type) ? AUDIT_VISIBILITY[type as EventType] : undefined;
  // Fails closed: an event type without a decision is shown to admins only, without its payload.
  return visibility ?? { owner: NONE, secret: ['*'], operator: [] };
}

/** The project an event belongs to, or the stream whose first event says it. */
export type ProjectClue = { readonly project: string | null } | { readonly ownerOf: string };

/** What the event itself says about its project; `ownerOf` asks the caller to look the stream up. */
export function projectClue(event: {
  readonly type: string;
  readonly stream: string;
  readonly data: object;
  readonly metadata: EventMetadata;
}): ProjectClue {
  const { owner } = visibilityOf(event.type);
  const data = event.data as Readonly<Record<string, unknown>>;
  switch (owner.by) {
    case 'field': {
      const value = data[owner.field];
      return { project: typeof value === 'string' ? value : null };
    }
    case 'stream':
      return { ownerOf: event.stream };
    case 'instance':
      return typeof data.instanceId === 'string'
        ? { ownerOf: streamFor('instance', data.instanceId) }
        : { project: null };
    case 'actor':
      return { project: event.metadata.actor.projectId };
    case 'none':
      return { project: null };
  }
}

/** The payload as the audience may see it: a plain JSON copy without secret (and for tenants, operator) fields. */
export function auditData(type: string, data: object, audience: Audience): Record<string, unknown> {
  const visibility = visibilityOf(type);
  const plain = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  const hidden = audience === 'admin' ? visibility.secret : [...visibility.secret, ...visibility.operator];
  if (hidden.includes('*')) return {};
  for (const path of hidden) drop(plain, path.split('.'));
  return plain;
}

function drop(target: Record<string, unknown>, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(target, head)) return;
  if (rest.length === 0) {
    Reflect.deleteProperty(target, head);
    return;
  }
  const inner = target[head];
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner))
    drop(inner as Record<string, unknown>, rest);
}
