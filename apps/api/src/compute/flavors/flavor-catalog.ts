/**
 * The flavor read model: every live flavor, folded in memory from `flavor-` streams; flavors are few and
 * read on every boot and every `flavor list`.
 */
import { Injectable } from '@nestjs/common';

import { type FlavorState, evolveFlavor, initialFlavor, isLiveFlavor } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../../common/store/read-model-hub.js';

@Injectable()
export class FlavorCatalog implements ReadModel {
  readonly streamPrefixes = ['flavor-'];
  private readonly flavors = new Map<string, FlavorState>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    const id = event.stream.slice('flavor-'.length);
    this.flavors.set(id, evolveFlavor(this.flavors.get(id) ?? initialFlavor(), event));
  }

  get(flavorId: string): FlavorState | undefined {
    const flavor = this.flavors.get(flavorId);
    return flavor && isLiveFlavor(flavor) ? flavor : undefined;
  }

  /** Live flavors ordered by id, Nova's default sort key. */
  all(): FlavorState[] {
    return [...this.flavors.values()]
      .filter(isLiveFlavor)
      .sort((a, b) => (a.definition?.flavorId ?? '').localeCompare(b.definition?.flavorId ?? ''));
  }
}
