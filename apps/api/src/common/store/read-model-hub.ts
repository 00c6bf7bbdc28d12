/**
 * One `$all` subscription that feeds every in-memory read model of the API (identity, images, flavors,
 * server groups, hosts, quotas): small sets, rebuilt from the store at each start. Writers wait on
 * `waitFor(position)` after an append, so a client that creates something and lists right away sees it
 * (read-your-writes for this process; other replicas see it within the subscription's lag).
 * Must never skip an event: a model that throws stops the hub loudly (runSubscription retries and then
 * fails), rather than serve a list that silently lacks something.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { EventStoreDBClient, Position } from '@eventstore/db-client';

import {
  MemoryCheckpointStore,
  type RunningSubscription,
  type StoredEvent,
  runSubscription,
} from '#libs/event-store';

import { API_CONFIG, EVENT_STORE_CLIENT } from './tokens.js';
import type { ApiConfig } from '../../config/api.config.js';
import { PositionWaiters } from './position-waiters.js';

/** A read model: the stream prefixes it folds and how it folds one event. */
export interface ReadModel {
  readonly streamPrefixes: readonly string[];
  apply(event: StoredEvent): void;
}

@Injectable()
export class ReadModelHub implements OnModuleDestroy {
  private readonly logger = new Logger(ReadModelHub.name);
  private readonly models: ReadModel[] = [];
  private subscription: RunningSubscription | null = null;
  private readonly waiters = new PositionWaiters();
  private failure: Error | null = null;

  constructor(
    @Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Called by each model's provider before start(). */
  register(model: ReadModel): void {
    if (this.subscription) throw new Error('read models must register before the hub starts');
    this.models.push(model);
  }

  /** Starts following the store; resolves once every model has folded the history. */
  async start(): Promise<void> {
    const prefixes = [...new Set(this.models.flatMap((model) => model.streamPrefixes))];
    const byPrefix = this.models.map((model) => ({ model, prefixes: model.streamPrefixes }));
    this.subscription = runSubscription(this.client, {
      name: 'api-read-models',
      streamPrefixes: prefixes,
      checkpoints: new MemoryCheckpointStore(),
      checkpointEvery: Number.MAX_SAFE_INTEGER,
      handle: (event) => {
        for (const { model, prefixes: own } of byPrefix) {
          if (own.some((prefix) => event.stream.startsWith(prefix))) model.apply(event);
        }
        if (event.position) this.waiters.reached(event.position);
        return Promise.resolve();
      },
      onFailed: (error) => {
        this.failure = error;
        this.logger.error(`read models stopped: ${error.message}`);
        this.waiters.fail(error);
      },
    });
    await this.subscription.caughtUp;
  }

  /** Whether some model folds `stream`: only then does waitFor(position of an event in it) ever resolve early. */
  follows(stream: string): boolean {
    return this.models.some((model) => model.streamPrefixes.some((prefix) => stream.startsWith(prefix)));
  }

  /**
   * Resolves once the models have folded the event at `position` (or the wait times out: the write has
   * happened either way, so a slow subscription delays a read, it never fails a write).
   */
  async waitFor(position: Position | undefined): Promise<void> {
    if (!position || this.failure) return;
    await this.waiters.waitFor(position, this.config.readYourWritesMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
  }
}
