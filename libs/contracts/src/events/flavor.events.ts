/**
 * Events of the `flavor-<id>` stream: a flavor's definition and its deletion. A boot copies the flavor's
 * values into BootRequested, so deleting a flavor never changes a server.
 * Must never change a flavor's resources in place: Nova's flavors are immutable, a new size is a new flavor.
 */
import { DomainEvent, eventCatalog } from '../registry.js';
import {
  IsBoundedInt,
  IsDisplayName,
  IsFiniteNumber,
  IsFlag,
  IsFlavorId,
  IsGib,
  IsMib,
  IsText,
  Nullable,
} from '../validation.js';

@DomainEvent({ type: 'FlavorCreated', version: 1, category: 'flavor' })
export class FlavorCreated {
  @IsFlavorId()
  readonly flavorId!: string;

  @IsDisplayName()
  readonly name!: string;

  @IsBoundedInt(1)
  readonly vcpus!: number;

  @IsMib()
  readonly ramMb!: number;

  /** 0: the root disk is sized from the image, as in Nova. */
  @IsGib()
  readonly diskGb!: number;

  @IsGib()
  readonly ephemeralGb!: number;

  @IsBoundedInt(0)
  readonly swapMb!: number;

  @IsFiniteNumber()
  readonly rxtxFactor!: number;

  @IsFlag()
  readonly isPublic!: boolean;

  /** Nova's flavor description (microversion 2.55). */
  @Nullable()
  @IsText(0, 65_535)
  readonly description!: string | null;
}

@DomainEvent({ type: 'FlavorDeleted', version: 1, category: 'flavor' })
export class FlavorDeleted {
  @IsFlavorId()
  readonly flavorId!: string;
}

export const FLAVOR_EVENTS = eventCatalog('flavor', { FlavorCreated, FlavorDeleted });
