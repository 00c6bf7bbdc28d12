/**
 * The event store for a Nest app: one official client for the given connection string, the typed
 * EventStore over it, and the client disposed when the app shuts down (after the app's own
 * shutdown hooks, which may still append).
 */
import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { EventStoreDBClient } from '@eventstore/db-client';

import { EventStore } from './event-store.js';

class ClientCloser implements OnApplicationShutdown {
  constructor(@Inject(EventStoreDBClient) private readonly client: EventStoreDBClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.dispose();
  }
}

@Module({})
export class EventStoreModule {
  static forRoot(connectionString: string): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        {
          provide: EventStoreDBClient,
          useFactory: () => EventStoreDBClient.connectionString(connectionString),
        },
        ClientCloser,
        {
          provide: EventStore,
          useFactory: (client: EventStoreDBClient) => new EventStore(client),
          inject: [EventStoreDBClient],
        },
      ],
      exports: [EventStoreDBClient, EventStore],
    };
  }
}
