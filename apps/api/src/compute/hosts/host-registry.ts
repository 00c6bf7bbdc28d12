/**
 * The host read model: every compute host's state (registration, zone, inventory, allocations, enabled)
 * folded in memory from `host-` streams with the domain's hostReducer, for hypervisors, services,
 * availability zones and the server view's zone and host status. Liveness comes from HostLiveness.
 */
import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { type HostState, evolveHost, initialHost } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import type { ApiConfig } from '../../config/api.config.js';
import { ReadModelHub, type ReadModel } from '../../common/store/read-model-hub.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { HOST_LIVENESS, type HostLiveness } from '../ports.js';

export interface KnownHost {
  readonly state: HostState;
  /** 1-based, in registration order: Nova's integer ids before microversion 2.53. */
  readonly number: number;
  /** A stable UUID derived from the name: Nova's ids from 2.53. */
  readonly uuid: string;
  /** When the host stream last changed (Nova's service `updated_at`). */
  readonly updatedAt: string;
}

/** Nova's `host_status` of a server. */
export type HostStatus = 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN' | '';

function uuidOf(host: string): string {
  const hex = createHash('sha256').update(`nimbus-host\u0000${host}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

@Injectable()
export class HostRegistry implements ReadModel {
  readonly streamPrefixes = ['host-'];
  private readonly hosts = new Map<string, KnownHost>();

  constructor(
    hub: ReadModelHub,
    @Inject(HOST_LIVENESS) private readonly liveness: HostLiveness,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {
    hub.register(this);
  }

  apply(event: StoredEvent): void {
    const name = event.stream.slice('host-'.length);
    const known = this.hosts.get(name);
    const state = evolveHost(known?.state ?? initialHost(), event);
    this.hosts.set(name, {
      state,
      number: known?.number ?? this.hosts.size + 1,
      uuid: known?.uuid ?? uuidOf(name),
      updatedAt: event.metadata.occurredAt,
    });
  }

  /** Registered hosts, by name. */
  all(): KnownHost[] {
    return [...this.hosts.values()]
      .filter((host) => host.state.registered)
      .sort((a, b) => a.state.name.localeCompare(b.state.name));
  }

  get(name: string): KnownHost | undefined {
    const host = this.hosts.get(name);
    return host?.state.registered ? host : undefined;
  }

  byId(id: string): KnownHost | undefined {
    return this.all().find((host) => host.uuid === id || String(host.number) === id);
  }

  isUp(name: string): boolean {
    return this.liveness.isUp(name);
  }

  zoneOf(name: string): string {
    return this.get(name)?.state.availabilityZone ?? this.config.defaultAvailabilityZone;
  }

  /** Zones with at least one enabled host: where a boot may ask to go (Nova's available zones). */
  availableZones(): Set<string> {
    return new Set(
      this.all()
        .filter((host) => host.state.enabled)
        .map((host) => host.state.availabilityZone),
    );
  }

  hostStatus(name: string | null): HostStatus {
    if (name === null) return '';
    const host = this.get(name);
    if (!host) return '';
    if (!host.state.enabled) return 'MAINTENANCE';
    return this.isUp(name) ? 'UP' : 'UNKNOWN';
  }
}
