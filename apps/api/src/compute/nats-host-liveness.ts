/**
 * HostLiveness from the compute agents' heartbeats (libs/bus's HeartbeatBoard): a host is up while
 * its agent's last beat is younger than the timeout, judged from the beats NATS kept from before
 * this API started. `os-services` and `os-hypervisors` show it.
 */
import type { NatsConnection } from '@nats-io/transport-node';

import { HeartbeatBoard, HostLiveness as Liveness, connectBus } from '#libs/bus';

import type { HostLiveness } from './ports.js';

export class NatsHostLiveness implements HostLiveness {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly liveness: Liveness,
  ) {}

  static async connect(
    bus: { url: string; credsFile?: string | undefined; replicas?: number },
    timeoutMs: number,
  ): Promise<NatsHostLiveness> {
    const connection = await connectBus({ url: bus.url, credsFile: bus.credsFile, name: 'api:heartbeats' });
    const liveness = new Liveness(timeoutMs);
    await new HeartbeatBoard(connection, bus.replicas).follow(liveness);
    return new NatsHostLiveness(connection, liveness);
  }

  isUp(host: string): boolean {
    return this.liveness.isUp(host);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
