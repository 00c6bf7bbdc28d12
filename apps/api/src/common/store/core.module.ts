/**
 * What every feature module shares, provided once: the configuration, the clock, the event store client
 * and its typed wrapper, the read-model hub, the public URL, and the ports to other processes.
 */
import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { EventStoreDBClient } from '@eventstore/db-client';

import { EventStore } from '#libs/event-store';

import { AUDIT_STREAM_PORT, type AuditStream } from '../../audit/nats/audit-stream.js';
import { AUDIT_NATS_SIGNER, type AuditNatsSigner } from '../../audit/nats/audit-subscriptions.js';
import type { ApiConfig } from '../../config/api.config.js';
import { COMPUTE_RPC, HOST_LIVENESS, type ComputeRpc, type HostLiveness } from '../../compute/ports.js';
import { PublicUrl } from '../http/public-url.js';
import { ReadModelHub } from './read-model-hub.js';
import { API_CONFIG, CLOCK, EVENT_STORE_CLIENT, type Clock } from './tokens.js';

export interface CoreOptions {
  readonly config: ApiConfig;
  readonly computeRpc: ComputeRpc;
  readonly hostLiveness: HostLiveness;
  /** The audit feed's JetStream stream; null or absent: no NATS way into the audit feed. */
  readonly auditStream?: AuditStream | null;
  /** What subscriber credentials are minted with; null or absent: none are. */
  readonly auditSigner?: AuditNatsSigner | null;
  readonly clock?: Clock;
}

@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient) {}

  static forRoot(options: CoreOptions): DynamicModule {
    const clock = options.clock ?? (() => new Date());
    return {
      module: CoreModule,
      providers: [
        { provide: API_CONFIG, useValue: options.config },
        { provide: CLOCK, useValue: clock },
        {
          provide: EVENT_STORE_CLIENT,
          useFactory: () => EventStoreDBClient.connectionString(options.config.eventStoreUrl),
        },
        {
          provide: EventStore,
          inject: [EVENT_STORE_CLIENT],
          useFactory: (client: EventStoreDBClient) => new EventStore(client, clock),
        },
        { provide: COMPUTE_RPC, useValue: options.computeRpc },
        { provide: HOST_LIVENESS, useValue: options.hostLiveness },
        { provide: AUDIT_STREAM_PORT, useValue: options.auditStream ?? null },
        { provide: AUDIT_NATS_SIGNER, useValue: options.auditSigner ?? null },
        ReadModelHub,
        PublicUrl,
      ],
      exports: [
        API_CONFIG,
        CLOCK,
        EVENT_STORE_CLIENT,
        EventStore,
        COMPUTE_RPC,
        HOST_LIVENESS,
        AUDIT_STREAM_PORT,
        AUDIT_NATS_SIGNER,
        ReadModelHub,
        PublicUrl,
      ],
    };
  }

  /** After every module's own shutdown (subscriptions stopped), so nothing uses the client any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.dispose();
  }
}
