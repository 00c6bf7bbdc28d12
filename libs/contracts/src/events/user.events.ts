/**
 * Events of the `user-<id>` stream: a Keystone user, its password hash and the roles it holds on projects.
 * User ids are derived from the domain and name, so a name is unique by construction.
 * Must never hold a password: only its scrypt hash, in the self-describing form `scrypt$N$r$p$salt$hash`.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsDisplayName, IsKeystoneId, IsOneOf, IsPattern, Nullable } from '../validation.js';

/**
 * The roles Nimbus's policy knows. Keystone's bootstrap makes `admin` imply `member` and `member` imply
 * `reader`; `service` is held by the users other Nimbus services authenticate as.
 */
export const KEYSTONE_ROLES = ['admin', 'member', 'reader', 'service'] as const;
export type KeystoneRole = (typeof KEYSTONE_ROLES)[number];

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

/** The user holds `role` on the project; tokens scoped to it carry the role (and the roles it implies). */
@DomainEvent({ type: 'RoleAssigned', version: 1, category: 'user' })
export class RoleAssigned {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsOneOf(KEYSTONE_ROLES)
  readonly role!: KeystoneRole;
}

@DomainEvent({ type: 'RoleUnassigned', version: 1, category: 'user' })
export class RoleUnassigned {
  @IsKeystoneId()
  readonly userId!: string;

  @IsKeystoneId()
  readonly projectId!: string;

  @IsOneOf(KEYSTONE_ROLES)
  readonly role!: KeystoneRole;
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

export const USER_EVENTS = eventCatalog('user', {
  UserCreated,
  UserPasswordChanged,
  RoleAssigned,
  RoleUnassigned,
  UserDisabled,
  UserEnabled,
  UserDeleted,
});
