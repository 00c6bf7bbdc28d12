/**
 * Leases in the NATS key-value bucket LEASE_BUCKET: a key is held by whoever last wrote it, for as long
 * as the bucket's age limit (the lease's time to live) after that write. Taking a free lease is a
 * create, which JetStream refuses while the key holds a value; renewing is an update at the revision
 * the holder last wrote, which it refuses once anyone else wrote the key; a lease not renewed in time
 * is removed by the server itself, so no holder's clock decides when another may take over.
 *
 * A holder trusts its lease only until a point on its own monotonic clock measured from when it sent
 * the write, shortened by a margin: the server's age limit runs from when it stored the write, which is
 * later, so a holder that stops trusting at that point has stopped before anyone else can hold the key.
 * A holder paused past that point (SIGSTOP, a long GC) finds on waking that it no longer trusts its
 * lease before it tries anything, and its renewal is then refused if another took the key meanwhile.
 *
 * The revision a lease was written at is its fencing token: it only ever grows, so two grants of one
 * key are told apart and ordered by it.
 *
 * A holder's name stands for one live process at a time (an agent id, as a supervisor runs it): a
 * process restarted under its name takes its predecessor's leases at once instead of waiting for them
 * to lapse. Should two live processes share a name by mistake, the first to see the other take a
 * lease from it names the conflict in its log and never takes a lease back from that one.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { Logger } from '@nestjs/common';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

import { LEASE_BUCKET } from '#libs/contracts';

export interface LeaseBoardOptions {
  /** Who holds the leases this board takes: a name operators read (an agent's id). */
  readonly holder: string;
  /** How long a lease lasts without renewal; the bucket's age limit when this board creates it. */
  readonly ttlMs: number;
  /** Replicas of the bucket when this board creates it (3 on a JetStream cluster). */
  readonly replicas?: number;
  /** The bucket; LEASE_BUCKET unless a test keeps its own. */
  readonly bucket?: string;
}

/** One grant of a lease. */
export interface Lease {
  readonly key: string;
  /** The revision the grant was written at: the fencing token. */
  readonly revision: number;
  /** Until when (performance.now()) the holder may act on it without renewing. */
  readonly trustedUntil: number;
  /** What the holder wrote beside its name (a member's wanted keys); renewals write it again. */
  readonly wants?: readonly string[];
}

/** A live member of a group that shares keys out (see LeaseKeeper): its name and the keys it wants. */
export interface LeaseMember {
  readonly holder: string;
  readonly wants: readonly string[];
}

/** Who holds a key now, as the bucket says. */
export interface LeaseHolder {
  readonly holder: string;
  readonly incarnation: string;
  readonly revision: number;
}

/** How much of the time to live a holder does not count on: renewals have this long to get through. */
const TRUST_MARGIN = 0.25;

/** Each write answers within this, or counts as not made. */
const WRITE_TIMEOUT_MS = 2_000;

const refusedAsTaken = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
    error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export class LeaseBoard {
  private readonly logger = new Logger(LeaseBoard.name);
  /** This process's grants are told from a predecessor's of the same holder name by this. */
  readonly incarnation = randomUUID();
  private bucket: Promise<{ kv: KV; ttlMs: number }> | null = null;
  private manager: Promise<JetStreamManager> | null = null;
  /** Other live processes under this holder's name: never taken over. */
  private readonly twins = new Set<string>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly options: LeaseBoardOptions,
  ) {
    if (!Number.isInteger(options.ttlMs) || options.ttlMs < 1_000) {
      throw new RangeError(
        `a lease's time to live must be a whole number of ms, at least 1000: ${options.ttlMs}`,
      );
    }
  }

  get holder(): string {
    return this.options.holder;
  }

  /**
   * Takes the key if nobody holds it (never held, released, or not renewed in time) or an earlier
   * process under this holder's name held it; null when another holder has it.
   */
  async acquire(key: string, wants?: readonly string[]): Promise<Lease | null> {
    const { kv, ttlMs } = await this.open();
    const sentAt = performance.now();
    const granted = (revision: number): Lease => ({
      key,
      revision,
      trustedUntil: sentAt + ttlMs * (1 - TRUST_MARGIN),
      ...(wants === undefined ? {} : { wants }),
    });
    try {
      return granted(await kv.create(key, this.value(wants)));
    } catch (error) {
      if (!refusedAsTaken(error)) throw this.forgetBucket(error);
    }
    const current = await this.holderOf(key);
    if (current === null || current.holder !== this.holder || this.twins.has(current.incarnation))
      return null;
    try {
      const revision = await kv.update(key, this.value(wants), current.revision, WRITE_TIMEOUT_MS);
      this.logger.log(`lease ${key} taken over from an earlier ${this.holder}`);
      return granted(revision);
    } catch (error) {
      if (refusedAsTaken(error)) return null;
      throw this.forgetBucket(error);
    }
  }

  /**
   * The lease kept for another time to live, or null if it was lost: someone else wrote the key since
   * this grant. A key that is gone (lapsed with nobody taking it, or JetStream lost its data) is taken
   * afresh, since then nobody else holds it.
   */
  async renew(lease: Lease): Promise<Lease | null> {
    const { kv, ttlMs } = await this.open();
    const sentAt = performance.now();
    try {
      const revision = await kv.update(lease.key, this.value(lease.wants), lease.revision, WRITE_TIMEOUT_MS);
      return { ...lease, revision, trustedUntil: sentAt + ttlMs * (1 - TRUST_MARGIN) };
    } catch (error) {
      if (!refusedAsTaken(error)) throw this.forgetBucket(error);
    }
    const taker = await this.holderOf(lease.key);
    if (taker?.holder === this.holder && taker.incarnation !== this.incarnation) {
      this.twins.add(taker.incarnation);
      this.logger.error(
        `another live process is named ${this.holder} too and took lease ${lease.key}: give each its own name`,
      );
    }
    return this.acquire(lease.key, lease.wants);
  }

  /** Gives the key up at once, if this grant still holds it; a lost lease is left alone. */
  async release(lease: Lease): Promise<void> {
    const { kv } = await this.open();
    try {
      await kv.delete(lease.key, { previousSeq: lease.revision });
    } catch (error) {
      if (!refusedAsTaken(error)) throw this.forgetBucket(error);
    }
  }

  /** Who holds the key now, or null when nobody does. */
  async holderOf(key: string): Promise<LeaseHolder | null> {
    const { kv } = await this.open();
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return null;
    const value = parseValue(entry.string());
    return value === null ? null : { ...value, revision: entry.revision };
  }

  /**
   * The live holders of the keys under `prefix` (`agent.` for `agent.<id>`), with what each wants.
   * The keys come from the stream's own count of its subjects, which its leader answers alone, so the
   * read needs no consumer (whose creation waits on JetStream's meta leader after a server is lost).
   */
  async members(prefix: string): Promise<LeaseMember[]> {
    const { kv } = await this.open();
    const bucket = this.options.bucket ?? LEASE_BUCKET;
    const subjectPrefix = `$KV.${bucket}.`;
    try {
      // No API check on creation: that asks the account's info, which only JetStream's meta leader answers.
      this.manager ??= jetstreamManager(this.connection, { timeout: WRITE_TIMEOUT_MS, checkAPI: false });
      const info = await (
        await this.manager
      ).streams.info(`KV_${bucket}`, {
        subjects_filter: `${subjectPrefix}${prefix}>`,
      });
      const keys = Object.keys(info.state.subjects ?? {}).map((subject) =>
        subject.slice(subjectPrefix.length),
      );
      const entries = await Promise.all(keys.map((key) => kv.get(key)));
      return entries.flatMap((entry) => {
        const value = entry?.operation === 'PUT' ? parseValue(entry.string()) : null;
        return value ? [{ holder: value.holder, wants: value.wants ?? [] }] : [];
      });
    } catch (error) {
      // The bucket itself is fine (renewals go on): only the manager is made afresh.
      this.manager = null;
      throw error;
    }
  }

  /** The time to live the bucket actually applies (an existing bucket keeps its own). */
  async ttlMs(): Promise<number> {
    return (await this.open()).ttlMs;
  }

  private value(wants?: readonly string[]): string {
    return JSON.stringify({ holder: this.options.holder, incarnation: this.incarnation, wants });
  }

  /** The bucket, created with our settings if it is not there (again, after JetStream lost its data). */
  private open(): Promise<{ kv: KV; ttlMs: number }> {
    this.bucket ??= (async () => {
      const name = this.options.bucket ?? LEASE_BUCKET;
      const kv = await new Kvm(this.connection).create(name, {
        history: 1,
        ttl: this.options.ttlMs,
        replicas: this.options.replicas ?? 1,
        timeout: WRITE_TIMEOUT_MS,
      });
      const ttlMs = (await kv.status()).ttl;
      if (ttlMs !== this.options.ttlMs) {
        this.logger.warn(
          `bucket ${name} keeps leases for ${ttlMs} ms, not the ${this.options.ttlMs} ms asked for`,
        );
      }
      if (ttlMs <= 0) throw new Error(`bucket ${name} has no age limit, so its leases would never lapse`);
      return { kv, ttlMs };
    })().catch((error: unknown) => {
      this.bucket = null;
      throw error;
    });
    return this.bucket;
  }

  private forgetBucket(error: unknown): unknown {
    this.bucket = null;
    return error;
  }
}

function parseValue(text: string): { holder: string; incarnation: string; wants?: string[] } | null {
  try {
    const value = JSON.parse(text) as { holder?: unknown; incarnation?: unknown; wants?: unknown };
    if (typeof value.holder !== 'string' || typeof value.incarnation !== 'string') return null;
    const wants =
      Array.isArray(value.wants) && value.wants.every((key) => typeof key === 'string')
        ? value.wants
        : undefined;
    return { holder: value.holder, incarnation: value.incarnation, ...(wants ? { wants } : {}) };
  } catch {
    return null;
  }
}
