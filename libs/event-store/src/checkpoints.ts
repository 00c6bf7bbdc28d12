/**
 * Where a subscriber remembers how far it got in `$all`, so a restart resumes instead of replaying
 * everything or, worse, skipping. A read model that lives in a database should implement this
 * interface inside that database, so its rows and its checkpoint commit together.
 */
import {
  type EventStoreDBClient,
  type Position,
  StreamNotFoundError,
  jsonEvent,
} from '@eventstore/db-client';

export interface CheckpointStore {
  load(subscription: string): Promise<Position | null>;
  save(subscription: string, position: Position): Promise<void>;
}

interface CheckpointData {
  readonly commit: string;
  readonly prepare: string;
  [key: string]: string;
}

const streamOf = (subscription: string): string => `checkpoint-${subscription}`;

/** Checkpoints as events in `checkpoint-<name>`, of which the store keeps only the newest few. */
export class StreamCheckpointStore implements CheckpointStore {
  private readonly prepared = new Set<string>();

  constructor(private readonly client: EventStoreDBClient) {}

  async load(subscription: string): Promise<Position | null> {
    let newest: CheckpointData | undefined;
    try {
      // Read to the end rather than return from inside the loop: a half-read call would keep the
      // client from ever disposing.
      for await (const resolved of this.client.readStream<{
        type: 'CheckpointReached';
        data: CheckpointData;
      }>(streamOf(subscription), { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
        newest ??= resolved.event?.data;
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    return newest ? { commit: BigInt(newest.commit), prepare: BigInt(newest.prepare) } : null;
  }

  async save(subscription: string, position: Position): Promise<void> {
    const stream = streamOf(subscription);
    if (!this.prepared.has(stream)) {
      await this.client.setStreamMetadata(stream, { maxCount: 5 });
      this.prepared.add(stream);
    }
    // Single writer per subscription name; a checkpoint only ever moves forward.
    await this.client.appendToStream(
      stream,
      jsonEvent({
        type: 'CheckpointReached',
        data: { commit: position.commit.toString(), prepare: position.prepare.toString() },
      }),
    );
  }
}

/** For tests and throwaway consumers. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, Position>();

  load(subscription: string): Promise<Position | null> {
    return Promise.resolve(this.positions.get(subscription) ?? null);
  }

  save(subscription: string, position: Position): Promise<void> {
    this.positions.set(subscription, position);
    return Promise.resolve();
  }
}
