/**
 * Events of the `domain-<id>` stream: a Keystone domain an admin made, holding projects and users of
 * its own (their names are unique within it). The `Default` domain (id `default`) has no stream: it
 * always exists. A domain's id is derived from the name it is made with, so making the same domain
 * twice meets its own stream; a name a renamed domain left behind gets a random id when used again. ("Identity" in the names sets these apart from the libvirt domains of the instance events.)
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import { IsDisplayName, IsFlag, IsKeystoneId, IsText, Nullable, Optional } from '../validation.js';

@DomainEvent({ type: 'IdentityDomainCreated', version: 1, category: 'domain' })
export class IdentityDomainCreated {
  @IsKeystoneId()
  readonly domainId!: string;

  @IsDisplayName(64)
  readonly name!: string;

  @Nullable()
  @IsText(0, 255)
  readonly description!: string | null;

  /** A disabled domain's users cannot authenticate, and its projects take no tokens. */
  @IsFlag()
  readonly enabled!: boolean;
}

/**
 * An admin renamed the domain, changed its description, or enabled or disabled it; each field only
 * when it changed.
 */
@DomainEvent({ type: 'IdentityDomainUpdated', version: 1, category: 'domain' })
export class IdentityDomainUpdated {
  @IsKeystoneId()
  readonly domainId!: string;

  /** Unique among domains: the API checks the name is free before it renames. */
  @Optional()
  @IsDisplayName(64)
  readonly name?: string;

  @Optional()
  @Nullable()
  @IsText(0, 255)
  readonly description?: string | null;

  @Optional()
  @IsFlag()
  readonly enabled?: boolean;
}

/** An admin deleted the (disabled) domain, after its projects and users. */
@DomainEvent({ type: 'IdentityDomainDeleted', version: 1, category: 'domain' })
export class IdentityDomainDeleted {
  @IsKeystoneId()
  readonly domainId!: string;
}

export const DOMAIN_EVENTS = eventCatalog('domain', {
  IdentityDomainCreated,
  IdentityDomainUpdated,
  IdentityDomainDeleted,
});
