/**
 * Closes open consoles when their token is revoked (the instance stopped or deleted): one `$all`
 * subscription filtered to `console-` streams, started at the store's head when the proxy starts,
 * hands each ConsoleRevoked to the registry.
 * Why one `$all` subscription rather than a catch-up subscription per open console's stream: its
 * cost is one server call whatever the number of open consoles, and the revocations of consoles not
 * open here are tiny events, dropped at once. It starts at the head because a revocation stored
 * before start-up is seen by each console's own point read; anything stored later arrives here,
 * so a console tracked before its read (see ConsoleRegistry) cannot miss its revocation. After a
 * dropped connection the subscription resumes after the last event it handled (runSubscription).
 * Must never report itself live before it has caught up, and never skip a revocation.
 */
import { BACKWARDS, END, type EventStoreDBClient, type Position } from '@eventstore/db-client';

import { isKnownEvent } from '#libs/contracts';
import { type CheckpointStore, type RunningSubscription, runSubscription } from '#libs/event-store';

import { redact } from '../log.js';
import type { ConsoleRegistry } from './console-registry.js';

export type FeedState = 'starting' | 'live' | 'failed' | 'stopped';

/** Where the store's log ends now (null when it is empty). */
async function headPosition(client: EventStoreDBClient): Promise<Position | null> {
  let head: Position | null = null;
  // Read to the end (one event): a call abandoned half-read keeps the client from disposing.
  for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
    head = resolved.event?.position ?? head;
  }
  return head;
}

/** Starts at a fixed position and remembers progress in memory: the feed never replays history. */
class FromPosition implements CheckpointStore {
  constructor(private position: Position | null) {}

  load(): Promise<Position | null> {
    return Promise.resolve(this.position);
  }

  save(_subscription: string, position: Position): Promise<void> {
    this.position = position;
    return Promise.resolve();
  }
}

export class RevocationFeed {
  private subscription: RunningSubscription | null = null;
  private current: FeedState = 'starting';

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly registry: ConsoleRegistry,
    private readonly log: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  state(): FeedState {
    return this.current;
  }

  /** Resolves once the feed is live; rejects if it stops for good before that. */
  async start(): Promise<void> {
    let failed: (error: Error) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => {
      failed = reject;
    });
    const subscription = runSubscription(this.client, {
      name: 'console-proxy-revocations',
      streamPrefixes: ['console-'],
      checkpoints: new FromPosition(await headPosition(this.client)),
      handle: (event) => {
        if (isKnownEvent(event) && event.type === 'ConsoleRevoked') {
          const { tokenHash, reason } = event.data;
          const closed = this.registry.revoke(tokenHash, reason);
          if (closed > 0) this.log('console revoked', { token: tokenHash.slice(0, 8), reason, closed });
        }
        return Promise.resolve();
      },
      onFailed: (error) => {
        this.current = 'failed';
        this.log('revocation feed stopped', { error: redact(error.message) });
        failed(error);
      },
    });
    this.subscription = subscription;
    failure.catch(() => undefined); // a failure after start-up is reported by state(), not here
    await Promise.race([subscription.caughtUp, failure]);
    if (this.current === 'starting') this.current = 'live';
  }

  async stop(): Promise<void> {
    this.current = 'stopped';
    await this.subscription?.stop();
  }
}
