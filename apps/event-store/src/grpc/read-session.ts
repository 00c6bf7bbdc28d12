/**
 * One `Streams.Read` call: a bounded read of a stream or of `$all`, or a catch-up subscription.
 *
 * A subscription is a pump that always reads the log *after the last thing it sent*. History and
 * live events come from the same query, so the hand-off from catch-up to live can have no gap and
 * no duplicate; a commit only wakes the pump. A slow consumer is never buffered in memory: the pump
 * waits for the call to drain and reads on from the log.
 */
import type * as grpc from '@grpc/grpc-js';

import type { EventLog } from '../storage/event-log.js';
import type { ReadDirection, RecordedEvent } from '../storage/records.js';
import { streamDeleted } from './errors.js';
import type { EventFilter } from './filters.js';
import { type ReadReq, type ReadResp, streamIdentifier, streamsPb } from './protocol.js';
import { encodeReadEvent } from './read-event-encoder.js';

const PAGE = 128;

/**
 * Messages a call may buffer before the pump waits for it to drain. The stream's own high-water
 * mark (16 objects) would hand the network a handful of small frames per turn of the event loop;
 * a deeper buffer lets one turn fill whole writes while still bounding memory per consumer.
 */
const MAX_BUFFERED = 256;

export type ReadSource =
  | { readonly kind: 'stream'; readonly stream: string; readonly from: bigint | 'start' | 'end' }
  | { readonly kind: 'all'; readonly from: bigint | 'start' | 'end' };

export interface ReadPlan {
  readonly source: ReadSource;
  readonly direction: ReadDirection;
  /** null for a subscription. */
  readonly count: bigint | null;
  readonly filter: EventFilter | null;
  readonly structuredIds: boolean;
}

/** Events go out pre-encoded (see read-event-encoder); control messages as generated objects. */
export type ReadCall = grpc.ServerWritableStream<ReadReq, ReadResp | Buffer>;
type Call = ReadCall;

export class ReadSession {
  private closed = false;
  private pumping = false;
  private wakeAgain = false;
  private caughtUp = false;
  /** Subscriptions: the last stream revision or `$all` position sent (or scanned); exclusive bound. */
  private after: bigint = -1n;
  private scannedSinceCheckpoint = 0;
  private lastScanned: bigint | null = null;

  constructor(
    private readonly call: Call,
    private readonly log: EventLog,
    private readonly plan: ReadPlan,
    private readonly onClose: (session: ReadSession) => void,
  ) {
    const stop = (): void => {
      this.close();
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
  }

  get stream(): string | null {
    return this.plan.source.kind === 'stream' ? this.plan.source.stream : null;
  }

  get isSubscription(): boolean {
    return this.plan.count === null;
  }

  async start(subscriptionId: string): Promise<void> {
    if (this.isSubscription) return this.subscribe(subscriptionId);
    return this.readOnce();
  }

  /** Called after every commit; cheap when nothing concerns this session. */
  wake(): void {
    if (this.closed || !this.isSubscription) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    void this.pump();
  }

  /** Ends the call with an error status, e.g. when the server shuts down. */
  abort(error: Parameters<Call['emit']>[1]): void {
    this.fail(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }

  private async readOnce(): Promise<void> {
    const { source, direction } = this.plan;
    let remaining = this.plan.count ?? 0n;
    if (source.kind === 'stream' && this.log.isTombstoned(source.stream)) {
      this.fail(streamDeleted(source.stream));
      return;
    }
    let cursor: bigint | 'start' | 'end' = source.from;
    let first = true;
    while (remaining > 0n && !this.closed) {
      const limit = remaining < BigInt(PAGE) ? Number(remaining) : PAGE;
      const page = this.readPage(cursor, direction, limit, first);
      first = false;
      if (page === null) {
        void this.write(streamNotFound(source));
        break;
      }
      if (page.length === 0) break;
      for (const record of page) {
        if (this.plan.filter && !this.plan.filter.matches(record)) continue;
        remaining -= 1n;
        if (!(await this.write(encodeReadEvent(record, this.plan.structuredIds)))) return;
        if (remaining === 0n) break;
      }
      const last = page[page.length - 1];
      if (!last || page.length < limit) break;
      cursor = nextCursor(source, direction, last);
    }
    this.finish();
  }

  /** Reads a page; `null` means the stream does not exist (only possible on the first page). */
  private readPage(
    cursor: bigint | 'start' | 'end',
    direction: ReadDirection,
    limit: number,
    first: boolean,
  ): RecordedEvent[] | null {
    const { source } = this.plan;
    if (source.kind === 'stream') {
      const page = this.log.readStream(source.stream, cursor, direction, limit);
      return page === null && !first ? [] : page;
    }
    if (direction === 'forwards') {
      if (cursor === 'end') return [];
      return this.log.readAll(cursor === 'start' ? 0n : cursor, 'forwards', limit);
    }
    if (cursor === 'start') return [];
    return this.log.readAll(cursor === 'end' ? this.log.headPosition + 1n : cursor, 'backwards', limit);
  }

  private async subscribe(subscriptionId: string): Promise<void> {
    const { source } = this.plan;
    if (source.kind === 'stream' && this.log.isTombstoned(source.stream)) {
      this.fail(streamDeleted(source.stream));
      return;
    }
    const confirmation = new streamsPb.ReadResp();
    const confirmed = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmed.setSubscriptionId(subscriptionId);
    confirmation.setConfirmation(confirmed);
    void this.write(confirmation);

    if (source.from === 'end') {
      this.after = source.kind === 'all' ? this.log.headPosition : this.streamHead(source.stream);
    } else if (source.from === 'start') {
      this.after = source.kind === 'all' ? 0n : -1n;
    } else {
      this.after = source.from;
    }
    await this.pump();
  }

  private streamHead(stream: string): bigint {
    const last = this.log.readStream(stream, 'end', 'backwards', 1);
    return last?.[0]?.revision ?? -1n;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.wakeAgain = false;
        while (!this.closed) {
          const { source } = this.plan;
          if (source.kind === 'stream' && this.log.isTombstoned(source.stream)) {
            this.fail(streamDeleted(source.stream));
            return;
          }
          const page =
            source.kind === 'stream'
              ? (this.log.readStream(source.stream, this.after + 1n, 'forwards', PAGE) ?? [])
              : this.log.readAll(this.after + 1n, 'forwards', PAGE);
          if (page.length === 0) break;
          for (const record of page) {
            this.after = source.kind === 'stream' ? record.revision : record.position;
            if (!(await this.deliver(record))) return;
          }
        }
        if (!this.caughtUp && !this.closed) {
          this.caughtUp = true;
          this.checkpoint();
          const caughtUp = new streamsPb.ReadResp();
          caughtUp.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
          void this.write(caughtUp);
        }
      } while (this.runAgain());
    } finally {
      this.pumping = false;
    }
  }

  /** A commit arrived while the pump was busy: look again before going idle. */
  private runAgain(): boolean {
    return this.wakeAgain && !this.closed;
  }

  private async deliver(record: RecordedEvent): Promise<boolean> {
    const { filter } = this.plan;
    if (!filter) return this.write(encodeReadEvent(record, this.plan.structuredIds));
    this.lastScanned = record.position;
    this.scannedSinceCheckpoint += 1;
    if (filter.matches(record) && !(await this.write(encodeReadEvent(record, this.plan.structuredIds)))) {
      return false;
    }
    if (this.scannedSinceCheckpoint >= filter.checkpointEvery) this.checkpoint();
    return true;
  }

  /** Filtered `$all` subscriptions learn how far the server has looked, matches or not. */
  private checkpoint(): void {
    if (!this.plan.filter || this.lastScanned === null || this.scannedSinceCheckpoint === 0) return;
    const message = new streamsPb.ReadResp();
    const checkpoint = new streamsPb.ReadResp.Checkpoint();
    checkpoint.setCommitPosition(this.lastScanned.toString());
    checkpoint.setPreparePosition(this.lastScanned.toString());
    message.setCheckpoint(checkpoint);
    this.scannedSinceCheckpoint = 0;
    void this.write(message);
  }

  /** Writes with backpressure; resolves false when the call is gone. */
  private write(message: ReadResp | Buffer): Promise<boolean> | boolean {
    if (this.closed) return false;
    this.call.write(message);
    if (this.call.writableLength < MAX_BUFFERED) return true;
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.call.off('close', done);
        resolve(!this.closed);
      };
      this.call.on('drain', done);
      this.call.on('close', done);
    });
  }

  private finish(): void {
    if (this.closed) return;
    this.call.end();
    this.close();
  }

  private fail(error: Parameters<Call['emit']>[1]): void {
    if (this.closed) return;
    this.call.emit('error', error);
    this.close();
  }
}

function streamNotFound(source: ReadSource): ReadResp {
  const response = new streamsPb.ReadResp();
  const notFound = new streamsPb.ReadResp.StreamNotFound();
  if (source.kind === 'stream') notFound.setStreamIdentifier(streamIdentifier(source.stream));
  response.setStreamNotFound(notFound);
  return response;
}

function nextCursor(source: ReadSource, direction: ReadDirection, last: RecordedEvent): bigint {
  if (source.kind === 'stream') return direction === 'forwards' ? last.revision + 1n : last.revision - 1n;
  // $all: forwards is inclusive, backwards exclusive.
  return direction === 'forwards' ? last.position + 1n : last.position;
}
