/**
 * The flavor aggregate: a flavor's definition as the fold of `flavor-<id>`. Flavors are created and
 * deleted, never changed (as in Nova); a deleted flavor's id may be used again.
 * Pure: no I/O, no clock.
 */
import {
  type DecodedEvent,
  FlavorCreated,
  FlavorDeleted,
  type FlavorEvent,
  type Plain,
  build,
  isKnownEvent,
} from '#libs/contracts';

import { ConflictingState, DomainError } from './errors.js';

export class FlavorNotFound extends DomainError {
  override readonly name = 'FlavorNotFound';
  readonly code = 'NotFound' as const;
  constructor(readonly flavorId: string) {
    super(`Flavor ${flavorId} could not be found.`);
  }
}

export interface FlavorState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly definition: Plain<FlavorCreated> | null;
  readonly createdAt: string | null;
}

export const initialFlavor = (): FlavorState => ({
  exists: false,
  deleted: false,
  definition: null,
  createdAt: null,
});

export function evolveFlavor(state: FlavorState, event: DecodedEvent): FlavorState {
  if (!isKnownEvent(event)) return state;
  const flavorEvent = event as FlavorEvent;
  switch (flavorEvent.type) {
    case 'FlavorCreated':
      return {
        exists: true,
        deleted: false,
        definition: flavorEvent.data,
        createdAt: event.metadata.occurredAt,
      };
    case 'FlavorDeleted':
      return { ...state, deleted: true };
  }
  return state;
}

export const flavorReducer = { initial: initialFlavor, evolve: evolveFlavor };

export const isLiveFlavor = (state: FlavorState): boolean => state.exists && !state.deleted;

export function decideCreateFlavor(state: FlavorState, definition: Plain<FlavorCreated>): FlavorCreated[] {
  if (isLiveFlavor(state))
    throw new ConflictingState(`Flavor with ID ${definition.flavorId} already exists.`);
  return [build(FlavorCreated, definition)];
}

export function decideDeleteFlavor(state: FlavorState, flavorId: string): FlavorDeleted[] {
  if (!isLiveFlavor(state)) throw new FlavorNotFound(flavorId);
  return [build(FlavorDeleted, { flavorId })];
}
