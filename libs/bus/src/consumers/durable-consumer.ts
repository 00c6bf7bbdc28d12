/**
 * One durable pull consumer on NIMBUS_EVENTS and the loop that feeds its messages, one at a time, to a
 * processing function. The loop outlives NATS: the client reconnects on its own, and when the consumer or
 * the stream went missing (a restarted or wiped JetStream) the loop recreates them and starts again.
 * Must never acknowledge anything itself (processing decides ack, nak or term) and never stop on an error
 * while it is meant to run: it logs, backs off and resumes.
 */
import { Logger } from '@nestjs/common';
import {
  type ConsumerMessages,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';

import { EVENTS_STREAM } from '#libs/contracts';

import { type ResolvedConsumerSettings, consumerConfigFor, consumerDrift } from './consumer-config.js';

export interface DurableConsumerOptions {
  readonly jetstream: JetStreamClient;
  readonly manager: JetStreamManager;
  readonly durableName: string;
  readonly subject: string;
  readonly settings: ResolvedConsumerSettings;
  /** Runs before the consumer is (re)created: the transport ensures the stream here. */
  readonly prepare: () => Promise<void>;
  /** Handles one message to its end: handler run, and the message acked, nak'd or terminated. */
  readonly process: (message: JsMsg) => Promise<void>;
}

const MAX_RESTART_DELAY_MS = 5_000;

export class DurableConsumer {
  private readonly logger: Logger;
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly options: DurableConsumerOptions) {
    this.logger = new Logger(`DurableConsumer(${options.durableName})`);
  }

  get name(): string {
    return this.options.durableName;
  }

  /** Creates the consumer, or brings its settings back to the configured ones. */
  async ensure(): Promise<void> {
    const { manager, durableName, subject, settings } = this.options;
    await this.options.prepare();
    const desired = consumerConfigFor(durableName, subject, settings);
    const current = await manager.consumers.info(EVENTS_STREAM, durableName).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)
        return null;
      throw error;
    });
    if (current === null) {
      await manager.consumers.add(EVENTS_STREAM, desired);
      this.logger.log(`created on ${subject}`);
      return;
    }
    const drift = consumerDrift(current.config, desired);
    if (drift.length > 0) {
      const { durable_name: _name, ...update } = desired;
      await manager.consumers.update(EVENTS_STREAM, durableName, update);
      this.logger.warn(`updated ${drift.join(', ')} to the configured values`);
    }
  }

  /** Starts the consume loop (call after ensure). */
  start(): void {
    if (this.loop !== null) throw new Error(`consumer ${this.name} is already running`);
    this.loop = this.run();
  }

  /** Stops fetching, lets the message being processed finish, and returns when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.messages?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    let restarts = 0;
    let first = true;
    while (!this.stopped) {
      try {
        if (!first) await this.ensure();
        first = false;
        const consumer = await this.options.jetstream.consumers.get(EVENTS_STREAM, this.options.durableName);
        const messages = await consumer.consume({
          // Enough on hand to keep every concurrent handler busy.
          max_messages: Math.max(this.options.settings.prefetch, this.options.settings.concurrency),
          // A consumer or stream that vanished (a wiped JetStream) ends the iteration, so the loop
          // recreates them instead of pulling from nothing forever.
          abort_on_missing_resource: true,
        });
        this.messages = messages;
        if (this.isStopped()) {
          await messages.close();
          return;
        }
        void this.report(messages);
        const running = new Set<Promise<void>>();
        try {
          for await (const message of messages) {
            restarts = 0;
            const work: Promise<void> = this.options
              .process(message)
              .catch((error: unknown) => {
                // process() decides ack, nak or term itself; an error here is a bug worth a line.
                this.logger.error(`processing failed: ${(error as Error).message}`);
              })
              .finally(() => running.delete(work));
            running.add(work);
            if (running.size >= this.options.settings.concurrency) await Promise.race(running);
          }
        } finally {
          await Promise.all(running);
        }
        if (this.isStopped()) return;
        this.logger.warn('message iteration ended; recreating the consumer');
      } catch (error) {
        if (this.isStopped()) return;
        this.logger.warn(`consume loop interrupted: ${(error as Error).message}`);
      }
      restarts += 1;
      await this.sleep(Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** Math.min(restarts, 10)));
    }
  }

  /** Logs what the client reports about the consumer that an operator would want to see. */
  private async report(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      switch (status.type) {
        case 'heartbeats_missed':
          if (status.count === 2) this.logger.warn('server heartbeats missed; the client re-pulls');
          break;
        case 'consumer_not_found':
        case 'consumer_deleted':
        case 'stream_not_found':
          this.logger.warn(`${status.type}; the consumer will be recreated`);
          break;
        case 'exceeded_limits':
          this.logger.warn(`pull refused by the server: ${status.description}`);
          break;
        default:
          break;
      }
    }
  }

  // Read through a method: `stopped` changes while the loop awaits, which narrowing cannot see.
  private isStopped(): boolean {
    return this.stopped;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
