/**
 * Keeps the leases a process wants: every round (a quarter of the time to live) it renews those it
 * holds and tries to take those it does not, and says when it gained or lost one. Whether the process
 * may act on a key is `holds(key)`, which trusts a grant only until its deadline on the monotonic
 * clock: a process that was paused past it stops acting at once on waking, before any renewal is tried,
 * and learns at the next round whether it still holds the key (nobody took it) or lost it.
 * A lost lease is announced before any other work of the round, and a lease is announced as gained
 * only after its grant is written. Taking a key up (the listener's "gained", which may be slow: a host
 * reached over SSH) never holds the next round back, so it cannot make the other leases lapse; a key
 * lost meanwhile is announced while its "gained" may still be running, and whatever that does after it
 * is for the listener to fence (`holds` is already false).
 */
import { performance } from 'node:perf_hooks';

import { Logger } from '@nestjs/common';

import type { Lease, LeaseBoard } from './lease-board.js';

export interface LeaseListener {
  /** The key is this process's now (its grant's revision is the fencing token). */
  gained(key: string, lease: Lease): Promise<void> | void;
  /** The key is no longer this process's, or no longer trusted to be: act on it no more. */
  lost(key: string): Promise<void> | void;
}

interface Held {
  lease: Lease | null;
  announced: boolean;
}

export class LeaseKeeper {
  private readonly logger = new Logger(LeaseKeeper.name);
  private readonly keys = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** The listener's "gained" calls still running. */
  private readonly takingUp = new Set<Promise<void>>();

  constructor(
    private readonly board: LeaseBoard,
    private readonly listener: LeaseListener,
  ) {}

  /**
   * Wants these keys from now on, and keeps wanting them. The first round runs at once, and this
   * resolves once the keys it took are taken up.
   */
  async start(keys: readonly string[]): Promise<void> {
    for (const key of keys) if (!this.keys.has(key)) this.keys.set(key, { lease: null, announced: false });
    const everyMs = Math.max(250, Math.floor((await this.board.ttlMs()) / 4));
    await this.runRound();
    this.timer ??= setInterval(() => void this.runRound(), everyMs);
    this.timer.unref();
    await Promise.allSettled([...this.takingUp]);
  }

  /** True while this process holds the key and its grant's deadline has not passed. */
  holds(key: string): boolean {
    const held = this.keys.get(key);
    return held?.lease != null && held.announced && performance.now() < held.lease.trustedUntil;
  }

  /** The grant held for the key, while `holds(key)`. */
  lease(key: string): Lease | null {
    return this.holds(key) ? (this.keys.get(key)?.lease ?? null) : null;
  }

  /** The keys held now. */
  held(): string[] {
    return [...this.keys.keys()].filter((key) => this.holds(key));
  }

  /** Stops renewing and gives every lease up, so another process takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
    await Promise.allSettled([...this.takingUp]);
    await Promise.allSettled(
      [...this.keys.entries()].map(async ([key, held]) => {
        const { lease } = held;
        held.lease = null;
        if (held.announced) {
          held.announced = false;
          await this.listener.lost(key);
        }
        if (lease) await this.board.release(lease);
      }),
    );
  }

  /** One round at a time: a slow JetStream must not pile rounds up. */
  runRound(): Promise<void> {
    this.round ??= this.renewAll().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  private async renewAll(): Promise<void> {
    // What lapsed while the process could not renew is let go first.
    for (const [key, held] of this.keys) {
      if (held.announced && held.lease && performance.now() >= held.lease.trustedUntil) {
        this.logger.warn(`lease ${key} lapsed before it was renewed; acting on it stops`);
        await this.announceLost(key, held);
      }
    }
    await Promise.allSettled([...this.keys.entries()].map(([key, held]) => this.keep(key, held)));
  }

  private async keep(key: string, held: Held): Promise<void> {
    let lease: Lease | null;
    try {
      lease = held.lease ? await this.board.renew(held.lease) : await this.board.acquire(key);
    } catch (error) {
      // The bus is unreachable: the grant stays trusted until its deadline, and the next round tries again.
      this.logger.warn(`lease ${key} not renewed: ${(error as Error).message}`);
      return;
    }
    if (lease === null) {
      if (held.lease) this.logger.warn(`lease ${key} was taken by another holder`);
      held.lease = null;
      if (held.announced) await this.announceLost(key, held);
      return;
    }
    held.lease = lease;
    if (!held.announced && performance.now() < lease.trustedUntil) {
      held.announced = true;
      const takingUp = Promise.resolve()
        .then(() => this.listener.gained(key, lease))
        .catch((error: unknown) => {
          this.logger.warn(`taking up ${key}: ${(error as Error).message}`);
        })
        .finally(() => this.takingUp.delete(takingUp));
      this.takingUp.add(takingUp);
    }
  }

  private async announceLost(key: string, held: Held): Promise<void> {
    held.announced = false;
    try {
      await this.listener.lost(key);
    } catch (error) {
      this.logger.warn(`letting go of ${key}: ${(error as Error).message}`);
    }
  }
}
