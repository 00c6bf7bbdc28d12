/**
 * Starts and stops the scheduler's long-running parts in order: the cluster view (folded from the
 * store), the reconciler, and the relay when this process hosts it. Several schedulers may run; one
 * relay is active among them, that of the scheduler holding the relay's lease (`relay` in the bucket
 * of leases): it runs while the lease is held and stops the moment it is not, and another scheduler's
 * relay starts from the shared checkpoint once the lease lapsed or was given up. Consumers of the bus start after
 * this has finished (main.ts), so no decision is made on an empty view; liveness is known before
 * that too, from the heartbeats NATS kept (scheduler.module.ts), so no host looks dead for want of
 * a beat this process has not yet had time to hear.
 */
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStoreDBClient } from '@eventstore/db-client';

import { EventRelay, LeaseBoard, LeaseKeeper } from '#libs/bus';
import type { ClusterView } from '#libs/cluster-view';
import { RELAY_LEASE_KEY } from '#libs/contracts';

import type { SchedulerConfig } from './config.js';
import type { SchedulerReconciler } from './placement/reconciler.js';
import type { SchedulerService } from './placement/scheduler.service.js';

@Injectable()
export class SchedulerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private relay: EventRelay | null = null;
  private relayLease: LeaseKeeper | null = null;
  private ready = false;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly store: EventStoreDBClient,
    private readonly jetstream: JetStreamClient,
    private readonly nats: NatsConnection,
    private readonly view: ClusterView,
    private readonly reconciler: SchedulerReconciler,
    private readonly scheduler: SchedulerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.view.start();
    if (this.config.relay === 'on') {
      const board = new LeaseBoard(this.nats, {
        holder: this.config.schedulerId,
        ttlMs: this.config.relayLeaseTtlMs,
        replicas: this.config.jetstreamReplicas,
      });
      this.relayLease = new LeaseKeeper(board, {
        gained: () => this.startRelay(),
        lost: () => this.stopRelay(),
      });
      await this.relayLease.start([RELAY_LEASE_KEY]);
    }
    this.reconciler.start(this.config.reconcileIntervalMs);
    this.ready = true;
    this.logger.log('cluster view folded; scheduling');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.reconciler.stop();
    // Stops the relay, then gives its lease up for another scheduler's relay to take at once.
    await this.relayLease?.stop();
    await this.view.stop();
  }

  private startRelay(): void {
    this.logger.log(`relay lease taken: relaying as ${this.config.schedulerId}`);
    this.relay = new EventRelay({
      store: this.store,
      jetstream: this.jetstream,
      categories: ['instance', 'host', 'console'],
      streamLimits: { replicas: this.config.jetstreamReplicas },
    });
    void this.relay.start();
  }

  private async stopRelay(): Promise<void> {
    const relay = this.relay;
    this.relay = null;
    this.logger.warn('relay lease lost: relaying stops');
    await relay?.stop();
  }

  status(): {
    ready: boolean;
    relay: { active: boolean; published: number; duplicates: number } | null;
    decisions: { count: number; p50Ms: number | null; p95Ms: number | null };
  } {
    const times = [...this.scheduler.decisionTimesMs].sort((a, b) => a - b);
    const at = (p: number): number | null =>
      times.length === 0
        ? null
        : Number((times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] ?? 0).toFixed(3));
    return {
      ready: this.ready,
      relay:
        this.config.relay === 'on'
          ? { active: this.relay !== null, ...(this.relay?.stats() ?? { published: 0, duplicates: 0 }) }
          : null,
      decisions: { count: times.length, p50Ms: at(0.5), p95Ms: at(0.95) },
    };
  }
}
