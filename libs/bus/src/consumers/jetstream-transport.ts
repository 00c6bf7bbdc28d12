/**
 * A NestJS custom transport that delivers stored events to `@OnEvent(EventClass)` handlers through durable
 * JetStream pull consumers: one consumer per handler subject, named after the service, so a restarted
 * service resumes where it stopped and replicas of one service share the work.
 * Each message is decoded and validated against the contracts; an invalid one is terminated and logged
 * loudly with where it sits, and its handler never sees it. A valid one is acknowledged only after its
 * handler succeeded; a handler error naks it with a growing delay, so it comes again.
 *
 * Handlers must be idempotent: a message can be delivered more than once (a crash before the ack, an ack
 * lost on the wire, a relay re-publish outside the duplicate window). And correctness never rests on the
 * bus alone: JetStream may lose acknowledged messages on a crash (Debian's nats-server 2.9 cannot fsync
 * each write), so a reconciler compares the store with what has happened and re-drives the difference.
 *
 * Must never acknowledge a message before its handler finished, never skip an invalid message silently,
 * and never accept request/reply handlers (those belong on Nest's NATS transport, see CommandServer).
 */
import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';

import { contextOf, inSpan, recordSpan } from '#libs/telemetry';

import { connectBus } from '../connection/connect.js';
import { type EventsStreamLimits, ensureEventsStream } from '../connection/events-stream.js';
import { fromEventMessage } from '../wire/event-message.js';
import { MSG_ID_HEADER, TRACEPARENT_HEADER } from '../wire/headers.js';
import type { BusEvent } from './bus-event.js';
import {
  type ConsumerSettings,
  type ResolvedConsumerSettings,
  durableNameFor,
  resolveSettings,
  retryDelayFor,
} from './consumer-config.js';
import { DurableConsumer } from './durable-consumer.js';
import { JetStreamContext } from './jetstream-context.js';
import { CONSUMER_SETTINGS_EXTRA, JETSTREAM_TRANSPORT } from './on-event.decorator.js';

export interface JetStreamTransportOptions {
  /** `NATS_URL`. */
  readonly url: string;
  /** `NATS_CREDS`, for a server in operator mode. */
  readonly credsFile?: string;
  /** The service the handlers belong to (`scheduler`, `compute`): it names the durable consumers. */
  readonly service: string;
  /** The NATS connection name (default `<service>:events`). */
  readonly connectionName?: string;
  /** Defaults for every consumer of this app; `@OnEvent(Event, settings)` overrides per handler. */
  readonly consumer?: ConsumerSettings;
  /** Create or reconcile NIMBUS_EVENTS before binding consumers (default true). */
  readonly ensureStream?: boolean;
  readonly streamLimits?: EventsStreamLimits;
  /** How long a JetStream API call waits for its answer, in milliseconds (default 5000). */
  readonly jetStreamTimeoutMs?: number;
}

export type JetStreamTransportStatus = 'connected' | 'disconnected' | 'reconnecting';

/** One handler and the durable consumer that feeds it. */
interface Binding {
  readonly subject: string;
  readonly durableName: string;
  readonly handler: MessageHandler;
  readonly settings: ResolvedConsumerSettings;
}

export class JetStreamTransport
  extends Server<Record<string, never>, JetStreamTransportStatus>
  implements CustomTransportStrategy
{
  override transportId: symbol = JETSTREAM_TRANSPORT;
  /** Handler failures come back to this transport (which naks), rather than being logged and dropped. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(JetStreamTransport.name);

  private connection: NatsConnection | null = null;
  private consumers: DurableConsumer[] = [];

  constructor(private readonly options: JetStreamTransportOptions) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error);
      },
    );
  }

  async close(): Promise<void> {
    const consumers = this.consumers;
    this.consumers = [];
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    const connection = this.connection;
    this.connection = null;
    if (connection !== null && !connection.isClosed()) await connection.close();
  }

  // The base class declares unwrap generic; the caller names the type it expects (a NatsConnection).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T>(): T {
    if (this.connection === null) throw new Error('JetStreamTransport is not listening yet');
    return this.connection as T;
  }

  on(): never {
    throw new Error('JetStreamTransport has no events to listen to; read its status observable instead');
  }

  /** The durable consumers this transport runs, by name (for operators and tests). */
  consumerNames(): readonly string[] {
    return this.consumers.map((consumer) => consumer.name);
  }

  private async start(): Promise<void> {
    const { service } = this.options;
    // Checked before connecting: a wrongly declared handler stops start-up without touching NATS.
    const bindings = [...this.messageHandlers.entries()].map(([subject, handler]) =>
      this.bindingFor(subject, handler),
    );

    const connection = await connectBus({
      url: this.options.url,
      name: this.options.connectionName ?? `${service}:events`,
      credsFile: this.options.credsFile,
    });
    this.connection = connection;
    void this.trackStatus(connection);
    try {
      await this.bind(connection, bindings);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async bind(connection: NatsConnection, bindings: readonly Binding[]): Promise<void> {
    const { service, ensureStream = true } = this.options;
    const timeout = this.options.jetStreamTimeoutMs ?? 5_000;
    const manager = await jetstreamManager(connection, { timeout });
    const client: JetStreamClient = jetstream(connection, { timeout });
    const prepare = ensureStream
      ? async (): Promise<void> => {
          await ensureEventsStream(manager, this.options.streamLimits);
        }
      : (): Promise<void> => Promise.resolve();

    const consumers = bindings.map(
      ({ subject, durableName, handler, settings }) =>
        new DurableConsumer({
          jetstream: client,
          manager,
          durableName,
          subject,
          settings,
          prepare,
          process: (message) => this.process(message, handler, durableName, settings),
        }),
    );
    for (const consumer of consumers) await consumer.ensure();
    this.consumers = consumers;
    for (const consumer of consumers) consumer.start();
    this._status$.next('connected');
    this.logger.log(`delivering ${consumers.length} event subject(s) to ${service}`);
  }

  private bindingFor(subject: string, handler: MessageHandler): Binding {
    if (handler.isEventHandler !== true) {
      throw new Error(
        `${subject} is a request/reply handler: JetStreamTransport delivers events only; bind ` +
          '@MessagePattern to Transport.NATS (use @CommandHandler)',
      );
    }
    const settings: unknown = handler.extras?.[CONSUMER_SETTINGS_EXTRA];
    if (typeof settings !== 'object' || settings === null) {
      throw new Error(
        `${subject} is bound with a bare @EventPattern: declare it with @OnEvent(EventClass), which binds ` +
          "it to this transport alone (a bare pattern is also subscribed by Nest's NATS transport)",
      );
    }
    return {
      subject,
      durableName: durableNameFor(this.options.service, subject),
      handler,
      settings: resolveSettings(this.options.consumer, settings),
    };
  }

  private async process(
    message: JsMsg,
    handler: MessageHandler,
    consumer: string,
    settings: ResolvedConsumerSettings,
  ): Promise<void> {
    let event: BusEvent;
    try {
      const decoded = fromEventMessage({
        subject: message.subject,
        data: message.data,
        messageId: message.headers?.get(MSG_ID_HEADER) || undefined,
      });
      event = {
        ...decoded,
        subject: message.subject,
        streamSequence: message.seq,
        deliveryCount: message.info.deliveryCount,
        consumer,
      };
    } catch (error) {
      // Loud, and final: JetStream will not deliver it again, and the reconciler re-drives its effect.
      this.logger.error(
        `TERMINATED ${whereIs(message)} for ${consumer}; its handler was not called: ` +
          (error as Error).message,
      );
      // No reason string: nats-server 2.9 ignores a `+TERM <reason>` and would redeliver forever.
      message.term();
      return;
    }

    // Keeps the message ours while a slow handler runs (an image download), so it is not redelivered
    // to a replica in the middle.
    const progress = setInterval(
      () => {
        message.working();
      },
      Math.max(500, Math.floor(settings.ackWaitMs / 2)),
    );
    // The handler's span joins the trace the relay passed on, so its appends carry it further.
    const trace = contextOf(message.headers?.get(TRACEPARENT_HEADER));
    const service = this.options.service;
    recordSpan(`jetstream.deliver ${event.type}`, message.info.timestampNanos / 1e6, trace, { service });
    try {
      await inSpan(
        `${service} handle ${event.type}`,
        () => this.invoke(handler, event, new JetStreamContext([message, consumer])),
        { parent: trace },
      );
    } catch (error) {
      const delay = retryDelayFor(event.deliveryCount, settings);
      this.logger.warn(
        `handler failed on delivery ${event.deliveryCount} of ${event.type} ${event.stream}@${event.revision} ` +
          `(${whereIs(message)}, consumer ${consumer}); redelivery in ${delay} ms: ${asError(error).message}`,
      );
      message.nak(delay);
      return;
    } finally {
      clearInterval(progress);
    }

    try {
      await message.ackAck();
    } catch (error) {
      // Handled but not confirmed: the message may come again, which an idempotent handler absorbs.
      this.logger.warn(
        `ack of ${whereIs(message)} not confirmed (${asError(error).message}); it may be redelivered`,
      );
    }
  }

  /** Runs the handler between Nest's processing hooks and waits for it, whatever it returned. */
  private invoke(handler: MessageHandler, event: BusEvent, context: JetStreamContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await handler(event, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          resolve();
        } catch (error) {
          reject(asError(error));
        } finally {
          runEndHook();
        }
      });
    });
  }

  private async trackStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') this._status$.next('disconnected');
      else if (status.type === 'reconnecting') this._status$.next('reconnecting');
      else if (status.type === 'reconnect') this._status$.next('connected');
    }
  }
}

/** Where a message sits, for logs: `NIMBUS_EVENTS#42 (nimbus.evt.instance.BootRequested)`. */
function whereIs(message: JsMsg): string {
  return `${message.info.stream}#${message.seq} (${message.subject})`;
}

/**
 * A handler error as it reaches the transport: Nest's exception layer has already turned a thrown error
 * into its `{ status, message }` body (and logged the original with its stack), or an Error got through.
 */
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return new Error(`${String(error.message)} (the cause is logged by Nest's exception handler)`, {
      cause: error,
    });
  }
  return new Error(String(error));
}
