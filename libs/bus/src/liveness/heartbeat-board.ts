/**
 * Compute agents' heartbeats, kept where no restart loses them: the NATS key-value bucket
 * HEARTBEAT_BUCKET holds each host's last beat (history 1). An agent puts a beat per host; a reader
 * (the scheduler, the API) first takes every host's last beat from the bucket, with the time
 * JetStream stored it, then follows each new beat as it is put, on a core subscription to the
 * bucket's subjects, which the client renews on every reconnect by itself.
 * Must never trust a beat's payload: the host is the key and the time is the server's or the reader's.
 * A beat that cannot be kept (JetStream down, its data lost) still reaches the readers that follow,
 * and the bucket is created again on the next beat.
 */
import { Logger } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type KV, Kvm } from '@nats-io/kv';

import { HEARTBEAT_BUCKET, heartbeatKey } from '#libs/contracts';

import type { HostLiveness } from './host-liveness.js';

/** A beat older than this is forgotten by the bucket: the host is then simply never heard of. */
const KEEP_BEATS_MS = 24 * 60 * 60 * 1_000;

/** Each beat answers within this, or counts as not kept; an agent beats again soon anyway. */
const PUT_TIMEOUT_MS = 2_000;

export class HeartbeatBoard {
  private readonly logger = new Logger(HeartbeatBoard.name);
  private bucket: Promise<KV> | null = null;
  private followers: Subscription[] = [];

  constructor(
    private readonly connection: NatsConnection,
    /** Copies of the bucket when this board creates it (3 on a three-node JetStream cluster). */
    private readonly replicas = 1,
  ) {}

  /** One beat for each host; resolves once all are kept or have failed (each failure is logged once). */
  async beat(hosts: readonly string[]): Promise<void> {
    const payload = JSON.stringify({ at: new Date().toISOString() });
    const kept = await Promise.allSettled(
      hosts.map(async (host) => (await this.open()).put(heartbeatKey(host), payload)),
    );
    const failed = kept.find((result) => result.status === 'rejected');
    if (failed) {
      this.bucket = null;
      this.logger.warn(`heartbeats not kept: ${(failed.reason as Error).message}`);
    }
  }

  /**
   * Feeds `liveness` with every host's last kept beat, then with every beat as it comes. Resolves once
   * the kept beats are read (from then on `liveness` is as good as the bucket), or, when they cannot
   * be read, with a warning: live beats are still followed.
   */
  async follow(liveness: HostLiveness): Promise<void> {
    const prefix = `$KV.${HEARTBEAT_BUCKET}.`;
    this.followers.push(
      this.connection.subscribe(`${prefix}*`, {
        callback: (error, message) => {
          if (!error) liveness.heard(message.subject.slice(prefix.length));
        },
      }),
    );
    try {
      const bucket = await this.open();
      const keys: string[] = [];
      for await (const key of await bucket.keys()) keys.push(key);
      for (const key of keys) {
        const entry = await bucket.get(key);
        if (entry?.operation === 'PUT') liveness.heard(key, entry.created.getTime());
      }
    } catch (error) {
      this.logger.warn(`kept heartbeats not read, following live ones only: ${(error as Error).message}`);
    }
  }

  close(): void {
    for (const follower of this.followers) follower.unsubscribe();
    this.followers = [];
  }

  /** The bucket, created with our settings if it is not there (again, after JetStream lost its data). */
  private open(): Promise<KV> {
    this.bucket ??= new Kvm(this.connection)
      .create(HEARTBEAT_BUCKET, {
        history: 1,
        ttl: KEEP_BEATS_MS,
        timeout: PUT_TIMEOUT_MS,
        replicas: this.replicas,
      })
      .catch((error: unknown) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }
}
