/** The quota read model: per-project limit overrides folded in memory from `quota-` streams. */
import { Injectable } from '@nestjs/common';

import { type QuotaOverridesState, evolveQuotaOverrides, initialQuotaOverrides } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ReadModelHub, type ReadModel } from '../../common/store/read-model-hub.js';

@Injectable()
export class QuotaOverrides implements ReadModel {
  readonly streamPrefixes = ['quota-'];
  private readonly projects = new Map<string, QuotaOverridesState>();

  constructor(hub: ReadModelHub) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    const id = event.stream.slice('quota-'.length);
    this.projects.set(id, evolveQuotaOverrides(this.projects.get(id) ?? initialQuotaOverrides(), event));
  }

  of(projectId: string): QuotaOverridesState {
    return this.projects.get(projectId) ?? initialQuotaOverrides();
  }
}
