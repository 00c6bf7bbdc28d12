/**
 * The Nest module that gives an app its NATS connection and JetStream handles: `BusModule.forRoot({ url,
 * name })` connects once, ensures NIMBUS_EVENTS exists with the configured limits, and closes the
 * connection when the app shuts down.
 * Must never be imported twice with different options in one app (it is global: one connection per app),
 * and never hold consumers itself: durable consumers live in JetStreamTransport, request/reply in
 * Nest's NATS transport.
 */
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

import { type BusConnectionOptions, connectBus } from './connect.js';
import { type EventsStreamLimits, ensureEventsStream } from './events-stream.js';

export interface BusModuleOptions extends BusConnectionOptions {
  /** Create or reconcile NIMBUS_EVENTS at start (default true); the relay's host must leave it on. */
  readonly ensureStream?: boolean;
  readonly streamLimits?: EventsStreamLimits;
  /** How long a JetStream API call or publish waits for its answer, in milliseconds (default 5000). */
  readonly jetStreamTimeoutMs?: number;
}

/** Injection tokens: `@Inject(NATS_CONNECTION) connection: NatsConnection`, and so on. */
export const NATS_CONNECTION = Symbol('nimbus:NatsConnection');
export const JETSTREAM = Symbol('nimbus:JetStreamClient');
export const JETSTREAM_MANAGER = Symbol('nimbus:JetStreamManager');

export const InjectNats = (): ParameterDecorator => Inject(NATS_CONNECTION);
export const InjectJetStream = (): ParameterDecorator => Inject(JETSTREAM);
export const InjectJetStreamManager = (): ParameterDecorator => Inject(JETSTREAM_MANAGER);

/** Closes the connection last, after the app's own shutdown hooks have stopped using it. */
@Injectable()
class BusConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('BusModule');

  constructor(@Inject(NATS_CONNECTION) private readonly connection: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.connection.isClosed()) return;
    // close(), not drain(): drain waits for the server, which may be the very thing that is down.
    await this.connection.close();
    this.logger.log('NATS connection closed');
  }
}

@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    const timeout = options.jetStreamTimeoutMs ?? 5_000;
    return {
      module: BusModule,
      global: true,
      providers: [
        {
          provide: NATS_CONNECTION,
          useFactory: async (): Promise<NatsConnection> => {
            const connection = await connectBus(options);
            try {
              if (options.ensureStream !== false) {
                await ensureEventsStream(
                  await jetstreamManager(connection, { timeout }),
                  options.streamLimits,
                );
              }
            } catch (error) {
              await connection.close();
              throw error;
            }
            return connection;
          },
        },
        {
          provide: JETSTREAM,
          useFactory: (connection: NatsConnection): JetStreamClient => jetstream(connection, { timeout }),
          inject: [NATS_CONNECTION],
        },
        {
          provide: JETSTREAM_MANAGER,
          useFactory: (connection: NatsConnection): Promise<JetStreamManager> =>
            jetstreamManager(connection, { timeout }),
          inject: [NATS_CONNECTION],
        },
        BusConnectionCloser,
      ],
      exports: [NATS_CONNECTION, JETSTREAM, JETSTREAM_MANAGER],
    };
  }
}
