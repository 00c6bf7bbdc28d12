/**
 * Events of the `user-<id>` stream: a Keystone user, its password hash and the roles it holds on projects.
 * User ids are derived from the domain and name, so a name is unique by construction.
 * Must never hold a password: only its scrypt hash, in the self-describing form `scrypt$N$r$p$salt$hash`.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
import {
  IsDisplayName,
  IsFlag,
  IsKeystoneId,
  IsPattern,
  IsSubsetOf,
  IsText,
  IsTimestamp,
  Nullable,
  Optional,
} from '../validation.js';

/**
 * The roles Nimbus's policy knows. Keystone's bootstrap makes `admin` imply `member` and `member` imply
 * `reader`; `service` is held by the users other Nimbus services authenticate as.
 */
export const KEYSTONE_ROLES = ['admin', 'member', 'reader', 'service'] as const;
export type KeystoneRole = (typeof KEYSTONE_ROLES)[number];

/**
 * A role's name: the built-in ones above, or one an admin made (which policy gives no rights; it is
 * carried in tokens for others to read). Letters, digits, `_`, `-` and `.`, as role names are written.
 */
export const ROLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;

export function IsRoleName(): PropertyDecorator {
  return IsPattern(ROLE_NAME_PATTERN, 'a role name (letters, digits, "_", "-", ".")');
}

/** `scrypt$<N>$<r>$<p>$<salt>$<hash>`, salt and hash in base64. */
export const PASSWORD_HASH_PATTERN =
  /^scrypt\$\d{1,7}\$\d{1,3}\$\d{1,3}\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

@DomainEvent({ type: 'UserCreated', version: 1, category: 'user' })
export class UserCreated {
  @IsKeystoneId()
  readonly userId!: string;

  /** Unique within its domain, as in Keystone. */
  @IsDisplayName(255)
  readonly name!: string;

  @IsKeystoneId()
  readonly domainId!: string;

  @IsPattern(PASSWORD_HASH_PATTERN, 'an scrypt hash ($-separated N, r, p, salt and hash)', 512)
  readonly passwordHash!: string;

  /** The project a token is scoped to when the request names none. */
  @Nullable()
  @IsKeystoneId()
  readonly defaultProjectId!: string | null;
}

/** A new password (bootstrap applies a changed configured password this way). */
@DomainEvent({ type: 'UserPasswordChanged', version: 1, category: 'user' })
export class UserPasswordChanged {
  @IsKeystoneId()
  readonly userId!: string;

  @IsPattern(PASSWORD_HASH_PATTERN, 'an scrypt hash ($-separated N, r, p, salt and hash)', 512)
  readonly passwordHash!: string;
}

/**
 * The user holds `role` (by name) on the project; tokens scoped to it carry the role (and the roles
 * it implies).
 */
@DomainEvent({ type: 'RoleAssigned', version: 2, category: 'user' })
export class RoleAssigned {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsRoleName()
  readonly role!: string;
}

// v1 held the built-in roles only; their names are v2 role names.
registerUpcaster('RoleAssigned', 1, (v1) => v1);

@DomainEvent({ type: 'RoleUnassigned', version: 2, category: 'user' })
export class RoleUnassigned {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsRoleName()
  readonly role!: string;
}

registerUpcaster('RoleUnassigned', 1, (v1) => v1);

/**
 * An admin renamed the user or changed its details (at creation too, when it gave them): its default
 * project, its description, its email. Each field is there only when it changed; null clears it.
 */
@DomainEvent({ type: 'UserUpdated', version: 1, category: 'user' })
export class UserUpdated {
  @IsKeystoneId()
  readonly userId!: string;

  /** Unique within its domain: the API checks the name is free before it renames. */
  @Optional()
  @IsDisplayName(255)
  readonly name?: string;

  @Optional()
  @Nullable()
  @IsKeystoneId()
  readonly defaultProjectId?: string | null;

  @Optional()
  @Nullable()
  @IsText(0, 255)
  readonly description?: string | null;

  @Optional()
  @Nullable()
  @IsText(0, 255)
  readonly email?: string | null;
}

/** An admin disabled the user: its tokens stop working and it cannot authenticate until enabled again. */
@DomainEvent({ type: 'UserDisabled', version: 1, category: 'user' })
export class UserDisabled {
  @IsKeystoneId()
  readonly userId!: string;
}

@DomainEvent({ type: 'UserEnabled', version: 1, category: 'user' })
export class UserEnabled {
  @IsKeystoneId()
  readonly userId!: string;
}

/** An admin deleted the user, and with it its role assignments; its name may be used again. */
@DomainEvent({ type: 'UserDeleted', version: 1, category: 'user' })
export class UserDeleted {
  @IsKeystoneId()
  readonly userId!: string;
}

/**
 * The user made an application credential: a secret that authenticates as the user on one project with
 * the given roles (those the user still holds there), until it expires or is deleted. Automation uses it
 * instead of the user's password.
 */
@DomainEvent({ type: 'ApplicationCredentialCreated', version: 1, category: 'user' })
export class ApplicationCredentialCreated {
  @IsKeystoneId()
  readonly userId!: string;

  /** Random, never reused: a token names the credential it came from. */
  @IsKeystoneId()
  readonly applicationCredentialId!: string;

  /** Unique among the user's application credentials. */
  @IsDisplayName(255)
  readonly name!: string;

  @Nullable()
  @IsText(0, 255)
  readonly description!: string | null;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsSubsetOf(KEYSTONE_ROLES)
  readonly roles!: KeystoneRole[];

  @IsPattern(PASSWORD_HASH_PATTERN, 'an scrypt hash ($-separated N, r, p, salt and hash)', 512)
  readonly secretHash!: string;

  @Nullable()
  @IsTimestamp()
  readonly expiresAt!: string | null;

  /** Whether its tokens may manage application credentials themselves (Keystone's `unrestricted`). */
  @IsFlag()
  readonly unrestricted!: boolean;
}

/** The credential no longer authenticates, and tokens it gave stop working. */
@DomainEvent({ type: 'ApplicationCredentialDeleted', version: 1, category: 'user' })
export class ApplicationCredentialDeleted {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeystoneId()
  readonly applicationCredentialId!: string;

  /** The project it authenticated on (whose auditors see the deletion). */
  @IsKeystoneId()
  readonly projectId!: string;
}

export const USER_EVENTS = eventCatalog('user', {
  UserCreated,
  UserPasswordChanged,
  UserUpdated,
  RoleAssigned,
  RoleUnassigned,
  UserDisabled,
  UserEnabled,
  UserDeleted,
  ApplicationCredentialCreated,
  ApplicationCredentialDeleted,
});
