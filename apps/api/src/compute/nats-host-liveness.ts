/**
 * HostLiveness from the compute agents' heartbeats on core NATS: a host is up while its agent was
 * heard from within the timeout. Ephemeral on purpose; `os-services` and `os-hypervisors` show it.
 */
import { type NatsConnection, type Subscription } from '@nats-io/transport-node';

import { connectBus } from '#libs/bus';
import { HEARTBEAT_SUBJECTS, HEARTBEAT_SUBJECT_PREFIX } from '#libs/contracts';

import type { HostLiveness } from './ports.js';

export class NatsHostLiveness implements HostLiveness {
  private readonly lastSeen = new Map<string, number>();
  private subscription: Subscription | null = null;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  static async connect(natsUrl: string, timeoutMs: number): Promise<NatsHostLiveness> {
    const liveness = new NatsHostLiveness(
      await connectBus({ url: natsUrl, name: 'api:heartbeats' }),
      timeoutMs,
    );
    liveness.subscription = liveness.connection.subscribe(HEARTBEAT_SUBJECTS, {
      callback: (error, message) => {
        if (!error)
          liveness.lastSeen.set(message.subject.slice(HEARTBEAT_SUBJECT_PREFIX.length + 1), Date.now());
      },
    });
    return liveness;
  }

  isUp(host: string): boolean {
    const seen = this.lastSeen.get(host);
    return seen !== undefined && Date.now() - seen <= this.timeoutMs;
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.connection.close();
  }
}
