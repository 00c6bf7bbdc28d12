/**
 * The server list read model as the API serves it: a ServerTable fed by a `$all` subscription to
 * `instance-` streams from the table's own checkpoint, and the waiters behind read-your-writes. It
 * is a cache of the store. An operator rebuilds it from zero while the API keeps answering
 * (`npm run ops -- rebuild servers`): a second table is built in a new file beside the live one from
 * the start of the store; once it has caught up with the live table it takes its place and the old
 * file is removed. `servers.current` names the live file, so a restart opens the one that was live.
 * Deleting the files while the API is stopped rebuilds at the next start; a schema change does so by itself.
 * Must never be the source of truth for a decision; decisions fold the stream.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type EventStoreDBClient, type Position, START } from '@eventstore/db-client';

import type { InstanceUsage } from '#libs/domain';
import { type RunningSubscription, type StoredEvent, decodeStored, runSubscription } from '#libs/event-store';
import { contextOf, recordSpan } from '#libs/telemetry';

import type { ApiConfig } from '../../../config/api.config.js';
import { conflict } from '../../../common/http/api-error.js';
import { PositionWaiters } from '../../../common/store/position-waiters.js';
import { API_CONFIG, EVENT_STORE_CLIENT } from '../../../common/store/tokens.js';
import type { ServerRecord } from '../server-record.js';
import { type ServerQuery, ServerTable } from './server-table.js';

export { MarkerNotFound, type ServerQuery } from './server-table.js';

const SUBSCRIPTION = 'api-servers';
const DEFAULT_FILE = 'servers.sqlite';
const CURRENT = 'servers.current';
/** Events a rebuild reads and applies at a time (one read, one transaction). */
const REBUILD_PAGE = 2_000;

/** Where a rebuild is: events folded so far into the new table, and how fast. */
export interface RebuildProgress {
  readonly events: number;
  readonly servers: number;
  readonly elapsedMs: number;
  readonly eventsPerSec: number;
  readonly done: boolean;
}

@Injectable()
export class ServerProjection implements OnModuleDestroy {
  private readonly logger = new Logger(ServerProjection.name);
  private readonly waiters = new PositionWaiters();
  private table: ServerTable;
  private subscription: RunningSubscription | null = null;
  private rebuilding = false;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient,
  ) {
    mkdirSync(config.dataDir, { recursive: true });
    const current = join(config.dataDir, CURRENT);
    const file = existsSync(current) ? readFileSync(current, 'utf8').trim() : DEFAULT_FILE;
    // A rebuild cut short by a stop left its new table behind: nobody will finish it.
    for (const entry of readdirSync(config.dataDir))
      if (/^servers-[0-9a-z]+\.sqlite(-wal|-shm)?$/.test(entry) && !entry.startsWith(file))
        rmSync(join(config.dataDir, entry), { force: true });
    this.table = this.open(file);
  }

  /** Starts following the store from the live table's checkpoint; resolves once caught up. */
  async start(): Promise<void> {
    this.subscription = this.follow(this.table);
    await this.subscription.caughtUp;
  }

  async waitFor(position: Position | undefined): Promise<void> {
    if (position) await this.waiters.waitFor(position, this.config.readYourWritesMs);
  }

  /**
   * The server's record once the table has applied `position` (its stream's head, read just before):
   * as fresh as a fold of the stream. Null when the table has no row for it or did not get that far
   * within the read-your-writes wait: the caller folds the stream instead.
   */
  async recordAt(id: string, position: Position): Promise<ServerRecord | null> {
    await this.waitFor(position);
    const table = this.table;
    if ((table.position?.commit ?? -1n) < position.commit) return null;
    return table.record(id) ?? null;
  }

  list(query: ServerQuery): ServerRecord[] {
    return this.table.list(query);
  }

  /**
   * Every live server of a project (null: of every project) with the `$all` position the rows are folded
   * up to, read in one transaction: a watch lists these and then follows the store from that position.
   */
  snapshot(projectId: string | null): { records: ServerRecord[]; position: Position | null } {
    return this.table.snapshot(projectId);
  }

  /** Servers that may have run between two ISO instants, oldest first (see ServerTable.createdBefore). */
  createdBefore(projectId: string | null, start: string, stop: string): ServerRecord[] {
    return this.table.createdBefore(projectId, start, stop);
  }

  usage(projectId: string): InstanceUsage {
    return this.table.usage(projectId);
  }

  membersOf(serverGroupId: string): string[] {
    return this.table.membersOf(serverGroupId);
  }

  /**
   * Rebuilds the table from the start of the store while the live one keeps serving, reporting
   * progress about once a second (and at the end); one rebuild at a time.
   */
  async rebuild(report: (progress: RebuildProgress) => void): Promise<RebuildProgress> {
    if (this.rebuilding) throw conflict('A rebuild of this read model is under way.');
    this.rebuilding = true;
    const file = `servers-${Date.now().toString(36)}.sqlite`;
    const next = this.open(file, { fresh: true });
    const started = performance.now();
    let events = 0;
    let shownAt = started;
    const progress = (done: boolean): RebuildProgress => {
      const elapsedMs = performance.now() - started;
      return {
        events,
        servers: next.count(),
        elapsedMs: Math.round(elapsedMs),
        eventsPerSec: elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : events,
        done,
      };
    };
    let building: RunningSubscription | null = null;
    // The history in pages, each applied in one transaction while the next one is read; then the
    // subscription for the rest.
    let reading = this.readPage(START);
    try {
      for (;;) {
        const page = await reading;
        if (page.last === null) break;
        reading = this.readPage(page.last);
        if (page.events.length > 0) next.applyAll(page.events);
        events += page.events.length;
        const now = performance.now();
        if (now - shownAt >= 1000) {
          shownAt = now;
          report(progress(false));
        }
      }
      building = this.follow(next, () => {
        events += 1;
      });
      await building.caughtUp;
      await this.caughtUpWithLive(next);
      // The swap: from here on the new table serves and wakes the waiters; the old one stops.
      const old = this.table;
      const oldSubscription = this.subscription;
      this.table = next;
      this.subscription = building;
      building = null;
      this.writeCurrent(file);
      await oldSubscription?.stop();
      this.remove(old);
      const finished = progress(true);
      report(finished);
      this.logger.log(`server read model rebuilt: ${finished.events} events, ${finished.eventsPerSec}/s`);
      return finished;
    } catch (error) {
      await reading.catch(() => undefined);
      await building?.stop();
      if (this.table !== next) this.remove(next);
      throw error;
    } finally {
      this.rebuilding = false;
    }
  }

  isRebuilding(): boolean {
    return this.rebuilding;
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.table.close();
  }

  private open(file: string, options: { fresh?: boolean } = {}): ServerTable {
    const path = join(this.config.dataDir, file);
    if (options.fresh) for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    return new ServerTable(path, SUBSCRIPTION, (message) => {
      this.logger.warn(message);
    });
  }

  private follow(table: ServerTable, onEvent?: () => void): RunningSubscription {
    return runSubscription(this.client, {
      name: SUBSCRIPTION,
      streamPrefixes: ['instance-'],
      checkpoints: table,
      checkpointEvery: 1000,
      handle: (event) => {
        table.apply(event);
        if (event.created !== undefined && table === this.table)
          recordSpan(
            `api.read-model ${event.type}`,
            event.created.getTime(),
            contextOf(event.metadata.traceparent),
          );
        onEvent?.();
        if (event.position && table === this.table) this.waiters.reached(event.position);
        return Promise.resolve();
      },
      onFailed: (error) => {
        if (table !== this.table) return;
        this.logger.error(`server projection stopped: ${error.message}`);
        this.waiters.fail(error);
      },
    });
  }

  /**
   * The instance events of the next page of `$all` after `from` (START: from the first), validated,
   * and the position of the page's last event of any stream (null: nothing after `from`).
   */
  private async readPage(
    from: Position | typeof START,
  ): Promise<{ events: StoredEvent[]; last: Position | null }> {
    const events: StoredEvent[] = [];
    let last: Position | null = null;
    for await (const resolved of this.client.readAll({ fromPosition: from, maxCount: REBUILD_PAGE })) {
      const recorded = resolved.event;
      // A read from a position starts with the event at it, which the previous page had.
      if (!recorded?.position || (from !== START && recorded.position.commit === from.commit)) continue;
      last = recorded.position;
      if (recorded.streamId.startsWith('instance-')) events.push(decodeStored(recorded));
    }
    return { events, last };
  }

  /** Waits until `next` has applied everything the live table has, so no reader sees a step back. */
  private async caughtUpWithLive(next: ServerTable): Promise<void> {
    for (;;) {
      const live = this.table.position?.commit ?? -1n;
      if ((next.position?.commit ?? -1n) >= live) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private writeCurrent(file: string): void {
    const current = join(this.config.dataDir, CURRENT);
    writeFileSync(`${current}.tmp`, `${file}\n`);
    renameSync(`${current}.tmp`, current);
  }

  private remove(table: ServerTable): void {
    table.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${table.file}${suffix}`, { force: true });
    this.logger.log(`removed ${basename(table.file)}`);
  }
}
