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
 *
 * Keys wanted by several processes of one kind (compute agents sharing hosts) are shared out among
 * them when the keeper is given a group (`LeaseSharing`): each process holds a member key of its own
 * (`<prefix><holder>`, written with the keys it wants, lapsing with the process), every round reads
 * the live members, and takes and keeps only the keys `shareOut` gives it. A key it holds that is now
 * another member's is handed over: announced lost, then released, and taken by that member at its
 * next round. A process whose lease lapsed or was taken (it was paused, or cut off from the bus)
 * sits out for a while before it joins the share again, so a flapping machine does not pull keys
 * back and forth; meanwhile it takes only keys no live member wants, so a lone process woken from a
 * pause takes its keys straight back.
 */
import { performance } from 'node:perf_hooks';

import { Logger } from '@nestjs/common';

import type { Lease, LeaseBoard } from './lease-board.js';
import { shareOut } from './share-out.js';

export interface LeaseListener {
  /** The key is this process's now (its grant's revision is the fencing token). */
  gained(key: string, lease: Lease): Promise<void> | void;
  /** The key is no longer this process's, or no longer trusted to be: act on it no more. */
  lost(key: string): Promise<void> | void;
}

/** The group a keeper's keys are shared out in. */
export interface LeaseSharing {
  /** The prefix of the members' keys (`agent.`): this process's is the prefix and its holder name. */
  readonly memberPrefix: string;
}

/** How many times to live a process whose lease lapsed or was taken sits out of the share. */
const SIT_OUT_TTLS = 5;

interface Held {
  lease: Lease | null;
  announced: boolean;
  /** A take or a hand-over of the key still under way, left to finish across rounds. */
  busy: boolean;
}

export class LeaseKeeper {
  private readonly logger = new Logger(LeaseKeeper.name);
  private readonly keys = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** The listener's "gained" calls still running. */
  private readonly takingUp = new Set<Promise<void>>();
  /** This process's member key, while it takes part in the share. */
  private member: Lease | null = null;
  /** Until when (performance.now()) it sits out of the share. */
  private sittingOutUntil = 0;
  /** The bucket's time to live, once started. */
  private ttlMs = 0;
  /** The member key's write still under way. */
  private memberWrite: Promise<void> | null = null;
  /** Takes and hand-overs of shared keys still under way: never awaited by a round. */
  private readonly moving = new Set<Promise<void>>();

  constructor(
    private readonly board: LeaseBoard,
    private readonly listener: LeaseListener,
    private readonly sharing?: LeaseSharing,
  ) {}

  /**
   * Wants these keys from now on, and keeps wanting them. The first round runs at once, and this
   * resolves once the keys it took are taken up.
   */
  async start(keys: readonly string[]): Promise<void> {
    for (const key of keys)
      if (!this.keys.has(key)) this.keys.set(key, { lease: null, announced: false, busy: false });
    this.ttlMs = await this.board.ttlMs();
    await this.runRound();
    this.timer ??= setInterval(() => void this.runRound(), this.roundMs());
    this.timer.unref();
    await Promise.allSettled([...this.moving]);
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
    await Promise.allSettled([...this.moving, ...this.takingUp]);
    // A write that failed is the next round's to redo; there is none now.
    await this.memberWrite?.catch(() => undefined);
    // Out of the share first, so the others count this process out when its keys come free.
    if (this.member) await this.board.release(this.member).catch(() => undefined);
    this.member = null;
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

  /** A round every quarter of the time to live. */
  private roundMs(): number {
    return Math.max(250, Math.floor(this.ttlMs / 4));
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
        this.sitOut();
        await this.announceLost(key, held);
      }
    }
    const { sharing } = this;
    if (!sharing) {
      await Promise.allSettled([...this.keys.entries()].map(([key, held]) => this.keep(key, held)));
      return;
    }
    // The leases held are renewed beside the members' read, never after it, and the read has a
    // round's time: a slow JetStream (electing a leader) must not let them lapse. Renewing announces
    // nothing: a key is announced only once the share says it is this process's.
    const wasSittingOut = this.sittingOut();
    const [owners] = await Promise.all([
      withDeadline(this.shareOut(sharing, wasSittingOut), this.roundMs()).catch((error: unknown) => {
        this.logger.warn(`members of ${sharing.memberPrefix}* not read: ${(error as Error).message}`);
        return null;
      }),
      Promise.allSettled(
        [...this.keys.entries()]
          .filter(([, held]) => held.lease && !held.busy)
          .map(([key, held]) => this.keep(key, held, { announce: false })),
      ),
    ]);
    // Not knowing the members (or having just begun to sit out), it keeps what it holds and takes nothing.
    if (owners === null || this.sittingOut() !== wasSittingOut) return;
    const me = this.board.holder;
    for (const [key, held] of this.keys) {
      const owner = owners.get(key) ?? me;
      if (owner !== me) {
        if (held.lease) this.move(held, () => this.handOver(key, held, owner));
      } else if (held.lease) this.announceGained(key, held, held.lease);
      else this.move(held, () => this.keep(key, held));
    }
  }

  /** Takes and hand-overs run on past the round: the next round's renewals never wait for them. */
  private move(held: Held, work: () => Promise<void>): void {
    if (held.busy) return;
    held.busy = true;
    const moving = work().finally(() => {
      held.busy = false;
      this.moving.delete(moving);
    });
    this.moving.add(moving);
  }

  /** The keys this process wants, as its member key lists them. */
  private wanted(): string[] {
    return [...this.keys.keys()];
  }

  private sittingOut(): boolean {
    return performance.now() < this.sittingOutUntil;
  }

  /**
   * Renews this process's member key (or keeps it back while sitting out) and shares the keys out
   * among the live members: key to holder, with no entry for a key no member wants; null when the
   * members cannot be read.
   */
  private async shareOut(sharing: LeaseSharing, sittingOut: boolean): Promise<Map<string, string> | null> {
    // One write of the member key at a time: one cut off by the round's deadline runs on.
    this.memberWrite ??= this.writeMember(sharing, sittingOut).finally(() => {
      this.memberWrite = null;
    });
    await this.memberWrite;
    if (!sittingOut && this.member === null) return null;
    const me = this.board.holder;
    const members = (await this.board.members(sharing.memberPrefix)).filter(({ holder }) => holder !== me);
    // Itself as it wrote itself, whatever the read says (a replica that has not seen the write yet).
    return shareOut(sittingOut ? members : [...members, { holder: me, wants: this.wanted() }]);
  }

  /** Renews this process's member key, or gives it up while sitting out. */
  private async writeMember(sharing: LeaseSharing, sittingOut: boolean): Promise<void> {
    if (sittingOut) {
      if (this.member) await this.board.release(this.member);
      this.member = null;
      return;
    }
    this.member = this.member
      ? await this.board.renew(this.member)
      : await this.board.acquire(`${sharing.memberPrefix}${this.board.holder}`, this.wanted());
  }

  /** Gives a key up to the member it now belongs to: acting on it stops first. */
  private async handOver(key: string, held: Held, owner: string): Promise<void> {
    const { lease } = held;
    if (!lease) return;
    this.logger.log(`handing ${key} over to ${owner}`);
    held.lease = null;
    if (held.announced) await this.announceLost(key, held);
    await this.board.release(lease).catch((error: unknown) => {
      this.logger.warn(`lease ${key} not released: ${(error as Error).message}`);
    });
  }

  /** A lease lapsed or was taken: out of the share for a while. */
  private sitOut(): void {
    if (!this.sharing) return;
    this.sittingOutUntil = Math.max(this.sittingOutUntil, performance.now() + SIT_OUT_TTLS * this.ttlMs);
  }

  private async keep(key: string, held: Held, { announce = true } = {}): Promise<void> {
    let lease: Lease | null;
    try {
      lease = held.lease ? await this.board.renew(held.lease) : await this.board.acquire(key);
    } catch (error) {
      // The bus is unreachable: the grant stays trusted until its deadline, and the next round tries again.
      this.logger.warn(`lease ${key} not renewed: ${(error as Error).message}`);
      return;
    }
    if (lease === null) {
      if (held.lease) {
        this.logger.warn(`lease ${key} was taken by another holder`);
        this.sitOut();
      }
      held.lease = null;
      if (held.announced) await this.announceLost(key, held);
      return;
    }
    held.lease = lease;
    if (announce) this.announceGained(key, held, lease);
  }

  /** Says the key is this process's now, unless it said so already or the grant is no longer trusted. */
  private announceGained(key: string, held: Held, lease: Lease): void {
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

/** The promise's value, or a timeout error once `ms` passed (the promise itself runs on, unheeded). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}
