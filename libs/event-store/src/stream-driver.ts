/**
 * Drives a stream toward what its state asks for, the loop every reacting service shares: one drive
 * per stream at a time in this process (a second trigger waits, then looks again), fold, let the
 * step decide and act, and when the step's append lost a race (or the step says the world changed)
 * fold and decide again, a bounded number of times. What a step appends names the stream's newest
 * event as its cause and carries its correlation id, so an audit follows a request end to end.
 * Never decides anything itself, and never retries an error other than a lost race.
 */
import { Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@eventstore/db-client';

import type { Actor, Plain } from '#libs/contracts';
import { KeyedMutex } from '#libs/concurrency';

import type { EventContext, EventStore, Reducer, StoredEvent } from './event-store.js';

/** A step's way of saying "the world changed under my decision: fold again and decide again". */
export const DRIVE_AGAIN: unique symbol = Symbol('drive again');

/** What a step is handed: the stream folded to its newest event, and the context to append with. */
export interface DriveTurn<S> {
  readonly state: S;
  readonly revision: bigint;
  readonly last: StoredEvent;
  readonly context: EventContext;
}

export type DriveStep<S, R> = (turn: DriveTurn<S>) => Promise<R | typeof DRIVE_AGAIN>;

export interface StreamDriverOptions<R> {
  /** Who appends what the steps decide (a service). */
  readonly actor: Plain<Actor>;
  /** The outcome of a drive with nothing to do: an empty stream, or a stream that kept changing. */
  readonly idle: R;
  /** Folds per drive before it gives up and leaves the stream to the next trigger (default 5). */
  readonly attempts?: number;
  /** Names the driver in its log lines. */
  readonly name: string;
}

const DEFAULT_ATTEMPTS = 5;

export class StreamDriver<S, R> {
  private readonly logger: Logger;
  private readonly turns = new KeyedMutex();
  /** Drives running or waiting per stream. */
  private readonly active = new Map<string, number>();

  constructor(
    private readonly store: Pick<EventStore, 'fold'>,
    private readonly reducer: Reducer<S>,
    private readonly options: StreamDriverOptions<R>,
  ) {
    this.logger = new Logger(options.name);
  }

  /** Drives `stream` once its earlier drives in this process are done. */
  async drive(stream: string, step: DriveStep<S, R>): Promise<R> {
    this.active.set(stream, (this.active.get(stream) ?? 0) + 1);
    try {
      return await this.turns.run(stream, () => this.driveOnce(stream, step));
    } finally {
      const left = (this.active.get(stream) ?? 1) - 1;
      if (left === 0) this.active.delete(stream);
      else this.active.set(stream, left);
    }
  }

  /** Whether a drive of `stream` is running or waiting here (sweeps leave such streams alone). */
  isDriving(stream: string): boolean {
    return this.active.has(stream);
  }

  private async driveOnce(stream: string, step: DriveStep<S, R>): Promise<R> {
    const attempts = this.options.attempts ?? DEFAULT_ATTEMPTS;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const { state, revision, last } = await this.store.fold(stream, this.reducer);
      if (revision === null || last === null) return this.options.idle;
      const context: EventContext = {
        correlationId: last.metadata.correlationId,
        causationId: last.metadata.eventId,
        actor: this.options.actor,
      };
      try {
        const outcome = await step({ state, revision, last, context });
        if (outcome !== DRIVE_AGAIN) return outcome;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
      }
    }
    this.logger.warn(`${stream} kept changing under ${attempts} attempts; the reconciler will try again`);
    return this.options.idle;
  }
}
