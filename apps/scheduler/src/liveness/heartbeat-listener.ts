/**
 * Feeds HostLiveness from the compute agents' heartbeats on core NATS. A heartbeat carries the
 * host name in its subject; the payload is not trusted for anything.
 */
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

import { HEARTBEAT_SUBJECTS, HEARTBEAT_SUBJECT_PREFIX } from '#libs/contracts';
import { InjectNats } from '#libs/bus';

import { HostLiveness } from './host-liveness.js';

@Injectable()
export class HeartbeatListener implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatListener.name);
  private subscription: Subscription | null = null;

  constructor(
    @InjectNats() private readonly connection: NatsConnection,
    private readonly liveness: HostLiveness,
  ) {}

  onModuleInit(): void {
    this.subscription = this.connection.subscribe(HEARTBEAT_SUBJECTS, {
      callback: (error, message) => {
        if (error) {
          this.logger.warn(`heartbeat subscription: ${error.message}`);
          return;
        }
        this.liveness.heard(message.subject.slice(HEARTBEAT_SUBJECT_PREFIX.length + 1));
      },
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }
}
