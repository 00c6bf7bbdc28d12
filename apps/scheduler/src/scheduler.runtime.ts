/**
 * Starts and stops the scheduler's long-running parts in order: the cluster view (folded from the
 * store), the reconciler, and the relay when this process hosts it. Consumers of the bus start after
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
import type { EventStoreDBClient } from '@eventstore/db-client';

import { EventRelay } from '#libs/bus';
import type { ClusterView } from '#libs/cluster-view';

import type { SchedulerConfig } from './config.js';
import type { SchedulerReconciler } from './placement/reconciler.js';
import type { SchedulerService } from './placement/scheduler.service.js';

@Injectable()
export class SchedulerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private relay: EventRelay | null = null;
  private ready = false;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly store: EventStoreDBClient,
    private readonly jetstream: JetStreamClient,
    private readonly view: ClusterView,
    private readonly reconciler: SchedulerReconciler,
    private readonly scheduler: SchedulerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.view.start();
    if (this.config.relay === 'on') {
      this.relay = new EventRelay({
        store: this.store,
        jetstream: this.jetstream,
        categories: ['instance', 'host', 'console'],
      });
      void this.relay.start();
    }
    this.reconciler.start(this.config.reconcileIntervalMs);
    this.ready = true;
    this.logger.log('cluster view folded; scheduling');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.reconciler.stop();
    await this.relay?.stop();
    await this.view.stop();
  }

  status(): {
    ready: boolean;
    relay: { published: number; duplicates: number } | null;
    decisions: { count: number; p50Ms: number | null; p95Ms: number | null };
  } {
    const times = [...this.scheduler.decisionTimesMs].sort((a, b) => a - b);
    const at = (p: number): number | null =>
      times.length === 0
        ? null
        : Number((times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] ?? 0).toFixed(3));
    return {
      ready: this.ready,
      relay: this.relay?.stats() ?? null,
      decisions: { count: times.length, p50Ms: at(0.5), p95Ms: at(0.95) },
    };
  }
}
