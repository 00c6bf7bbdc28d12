/**
 * The scheduler's wiring: the store client and its typed layer, the cluster view, liveness from
 * heartbeats, the placement service and its reconciler, the bus handlers and the health endpoint.
 * Configuration comes in already validated (main.ts).
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { EventStoreDBClient } from '@eventstore/db-client';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

import { BusModule, HeartbeatBoard, HostLiveness, JETSTREAM, NATS_CONNECTION } from '#libs/bus';
import { ClusterView } from '#libs/cluster-view';
import { EventStore, EventStoreModule } from '#libs/event-store';

import type { SchedulerConfig } from './config.js';
import { InstanceEventsController } from './events/instance-events.controller.js';
import { FILTERS } from './filters/index.js';
import { HealthController } from './health/health.controller.js';
import { SchedulerReconciler } from './placement/reconciler.js';
import { SchedulerService } from './placement/scheduler.service.js';
import { SchedulerRuntime } from './scheduler.runtime.js';
import { cpuWeigher } from './weighers/cpu.weigher.js';
import { ramWeigher } from './weighers/ram.weigher.js';

export const SCHEDULER_CONFIG = Symbol('SchedulerConfig');

/** The bus fast path normally acts within milliseconds; work older than this is the reconciler's. */
const RECONCILE_GRACE_MS = 3_000;

@Module({})
export class SchedulerModule {
  static forRoot(config: SchedulerConfig): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [
        EventStoreModule.forRoot(config.eventStoreUrl),
        BusModule.forRoot({
          url: config.natsUrl,
          credsFile: config.natsCreds,
          name: 'scheduler',
          streamLimits: { replicas: config.jetstreamReplicas },
        }),
      ],
      controllers: [InstanceEventsController, HealthController],
      providers: [
        { provide: SCHEDULER_CONFIG, useValue: config },
        {
          provide: ClusterView,
          useFactory: (client: EventStoreDBClient) => new ClusterView(client, 'scheduler'),
          inject: [EventStoreDBClient],
        },
        {
          // Ready only once every host's last kept beat is known: a scheduler that has just started
          // judges a host by its agent's last beat, never by its own short silence.
          provide: HostLiveness,
          useFactory: async (nats: NatsConnection) => {
            const liveness = new HostLiveness(config.heartbeatTimeoutMs);
            await new HeartbeatBoard(nats, config.jetstreamReplicas).follow(liveness);
            return liveness;
          },
          inject: [NATS_CONNECTION],
        },
        {
          provide: SchedulerService,
          useFactory: (store: EventStore, view: ClusterView, liveness: HostLiveness) =>
            new SchedulerService(store, view, liveness, {
              maxAttempts: config.maxAttempts,
              policy: {
                filters: FILTERS.filter((filter) => config.filters.includes(filter.name)),
                weighers: [
                  { weigher: ramWeigher, multiplier: config.ramWeightMultiplier },
                  { weigher: cpuWeigher, multiplier: config.cpuWeightMultiplier },
                ],
                alternates: config.maxAttempts - 1,
              },
            }),
          inject: [EventStore, ClusterView, HostLiveness],
        },
        {
          provide: SchedulerReconciler,
          useFactory: (view: ClusterView, scheduler: SchedulerService) =>
            new SchedulerReconciler(view, scheduler, RECONCILE_GRACE_MS),
          inject: [ClusterView, SchedulerService],
        },
        {
          provide: SchedulerRuntime,
          useFactory: (
            client: EventStoreDBClient,
            jetstream: JetStreamClient,
            nats: NatsConnection,
            view: ClusterView,
            reconciler: SchedulerReconciler,
            scheduler: SchedulerService,
          ) => new SchedulerRuntime(config, client, jetstream, nats, view, reconciler, scheduler),
          inject: [
            EventStoreDBClient,
            JETSTREAM,
            NATS_CONNECTION,
            ClusterView,
            SchedulerReconciler,
            SchedulerService,
          ],
        },
      ],
    };
  }
}
