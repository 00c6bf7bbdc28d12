/**
 * One copy of the server list read model: a SQLite database with one row per instance (indexed
 * columns for the filters Nova offers, and the folded ServerRecord as JSON for rendering) and the
 * `$all` checkpoint of the events it holds. Each event's row change and the checkpoint commit in one
 * transaction, so the file resumes exactly where its rows are: never a lost or doubled event.
 * ServerProjection keeps one live and, while an operator rebuilds, builds a second one beside it.
 */
import Database from 'better-sqlite3';
import type { Position } from '@eventstore/db-client';

import { resourcesHeld, serverStatus, type InstanceUsage } from '#libs/domain';
import type { CheckpointStore, StoredEvent } from '#libs/event-store';

import { type ServerRecord, evolveServerRecord, initialServerRecord } from '../server-record.js';
import { DEFAULT_SORT, SORT_COLUMNS, type SortColumn, type SortKey } from '../server-sort.js';

/** Bump when the table layout or the stored record changes: the projection then rebuilds from the start. */
// 2: records carry metadata, access addresses and the lock; 4: and the NICs.
const SCHEMA_VERSION = 4;

export interface ServerQuery {
  /** null: every project (an admin's all_tenants). */
  readonly projectId: string | null;
  readonly name?: string;
  readonly statuses?: readonly string[];
  readonly host?: string;
  readonly changesSince?: string;
  readonly imageId?: string;
  readonly flavorId?: string;
  /** true: deleted only; false: live only; null: both (changes-since). */
  readonly deleted: boolean | null;
  readonly limit: number;
  readonly marker: string | null;
  /** The order, ending with a unique key (server-sort.ts); Nova's default when absent. */
  readonly sort?: readonly SortKey[];
}

export class MarkerNotFound extends Error {
  override readonly name = 'MarkerNotFound';
}

/** A marker's row: its project, and its value of every column a list may be sorted on. */
type MarkerRow = Readonly<Record<SortColumn, string>>;

/** A sort column as compared: `host`, the one that may be empty, sorts no host as the empty text. */
const sortExpression = (column: SortColumn): string => (column === 'host' ? "COALESCE(host, '')" : column);

export class ServerTable implements CheckpointStore {
  private readonly db: Database.Database;
  private readonly regexCache = new Map<string, RegExp | null>();
  private readonly statements;
  /** Applies one instance event and moves the checkpoint, in one transaction. */
  readonly apply: (event: StoredEvent) => void;
  /** Applies instance events in order and moves the checkpoint to the last, in one transaction. */
  readonly applyAll: (events: readonly StoredEvent[]) => void;
  /** The position of the last event applied, or of the checkpoint it opened at. */
  position: Position | null = null;

  constructor(
    readonly file: string,
    private readonly subscription: string,
    private readonly warn: (message: string) => void,
  ) {
    this.db = new Database(file);
    // WAL without fsync per commit: the projection is rebuildable, and its rows and checkpoint still
    // commit atomically, so a crash loses at most a suffix that is then replayed.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.db.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) =>
      typeof pattern === 'string' && typeof value === 'string' && this.regex(pattern)?.test(value) ? 1 : 0,
    );
    this.statements = {
      record: this.db.prepare<[string], string>('SELECT record FROM servers WHERE id = ?').pluck(),
      upsert: this.db.prepare(
        `INSERT INTO servers (id, project_id, user_id, name, status, host, image_id, flavor_id, server_group,
           vcpus, ram_mb, created_at, updated_at, deleted, record)
         VALUES (@id, @projectId, @userId, @name, @status, @host, @imageId, @flavorId, @serverGroup,
           @vcpus, @ramMb, @createdAt, @updatedAt, @deleted, @record)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, host = excluded.host,
           image_id = excluded.image_id, flavor_id = excluded.flavor_id, vcpus = excluded.vcpus,
           ram_mb = excluded.ram_mb, updated_at = excluded.updated_at, deleted = excluded.deleted,
           record = excluded.record`,
      ),
      checkpoint: this.db.prepare(
        `INSERT INTO checkpoints (name, commit_position, prepare_position) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET commit_position = excluded.commit_position,
           prepare_position = excluded.prepare_position`,
      ),
      loadCheckpoint: this.db.prepare<[string], { commit_position: string; prepare_position: string }>(
        'SELECT commit_position, prepare_position FROM checkpoints WHERE name = ?',
      ),
      markerRow: this.db.prepare<[string], MarkerRow>(
        `SELECT ${SORT_COLUMNS.map((column) => `${sortExpression(column)} AS ${column}`).join(', ')}
         FROM servers WHERE id = ?`,
      ),
      usage: this.db.prepare<[string], { instances: number; cores: number | null; ram: number | null }>(
        'SELECT COUNT(*) AS instances, SUM(vcpus) AS cores, SUM(ram_mb) AS ram FROM servers WHERE project_id = ? AND deleted = 0',
      ),
      members: this.db
        .prepare<[string], string>(
          'SELECT id FROM servers WHERE server_group = ? AND deleted = 0 ORDER BY created_at, id',
        )
        .pluck(),
    };
    this.applyAll = this.db.transaction((events: readonly StoredEvent[]) => {
      // Each server's record is read once and written once per batch, however many of its events it holds.
      const changed = new Map<string, { record: ServerRecord; event: StoredEvent }>();
      let position: Position | undefined;
      for (const event of events) {
        const id = event.stream.slice('instance-'.length);
        let record = changed.get(id)?.record;
        if (record === undefined) {
          const stored = this.statements.record.get(id);
          record = stored === undefined ? initialServerRecord() : (JSON.parse(stored) as ServerRecord);
        }
        changed.set(id, { record: evolveServerRecord(record, event), event });
        position = event.position ?? position;
      }
      for (const [id, { record, event }] of changed) this.write(id, record, event);
      if (position) {
        this.writeCheckpoint(position);
        this.position = position;
      }
    });
    this.apply = (event) => {
      this.applyAll([event]);
    };
    const row = this.statements.loadCheckpoint.get(subscription);
    if (row) this.position = { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) };
  }

  private write(id: string, next: ServerRecord, event: StoredEvent): void {
    const { instance } = next;
    if (!instance.exists || !instance.boot) return;
    const held = resourcesHeld(instance) ?? instance.boot.flavor;
    this.statements.upsert.run({
      id,
      projectId: instance.boot.projectId,
      userId: instance.boot.userId,
      name: instance.name,
      status: serverStatus(instance),
      host: instance.host,
      imageId: (instance.image ?? instance.boot.image).id,
      flavorId: (instance.flavor ?? instance.boot.flavor).id,
      serverGroup: instance.boot.serverGroup?.id ?? null,
      // What quota counts: during a resize, the larger of the two flavors.
      vcpus: held.vcpus,
      ramMb: held.ramMb,
      createdAt: instance.createdAt ?? event.metadata.occurredAt,
      updatedAt: instance.updatedAt ?? event.metadata.occurredAt,
      deleted: instance.vmState === 'deleted' ? 1 : 0,
      record: JSON.stringify(next),
    });
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const version = this.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'schema'").pluck().get();
    if (version === String(SCHEMA_VERSION)) return;
    if (version !== undefined)
      this.warn(`projection schema ${version} is outdated: rebuilding from the store`);
    this.db.exec(`
      DROP TABLE IF EXISTS servers;
      DROP TABLE IF EXISTS checkpoints;
      CREATE TABLE servers (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        host TEXT,
        image_id TEXT NOT NULL,
        flavor_id TEXT NOT NULL,
        server_group TEXT,
        vcpus INTEGER NOT NULL,
        ram_mb INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX servers_by_project ON servers (project_id, deleted, created_at DESC, id DESC);
      CREATE INDEX servers_by_time ON servers (deleted, created_at DESC, id DESC);
      CREATE INDEX servers_by_update ON servers (updated_at);
      CREATE INDEX servers_by_group ON servers (server_group) WHERE server_group IS NOT NULL;
      CREATE TABLE checkpoints (name TEXT PRIMARY KEY, commit_position TEXT NOT NULL, prepare_position TEXT NOT NULL);
    `);
    this.db
      .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)")
      .run(String(SCHEMA_VERSION));
  }

  private regex(pattern: string): RegExp | null {
    if (!this.regexCache.has(pattern)) {
      let compiled: RegExp | null;
      try {
        compiled = new RegExp(pattern, 'u');
      } catch {
        compiled = null;
      }
      if (this.regexCache.size > 256) this.regexCache.clear();
      this.regexCache.set(pattern, compiled);
    }
    return this.regexCache.get(pattern) ?? null;
  }

  // CheckpointStore: the checkpoint lives in this database, beside the rows it describes.
  load(subscription: string): Promise<Position | null> {
    return Promise.resolve(subscription === this.subscription ? this.position : null);
  }

  save(subscription: string, position: Position): Promise<void> {
    if (subscription === this.subscription) this.writeCheckpoint(position);
    return Promise.resolve();
  }

  private writeCheckpoint(position: Position): void {
    this.statements.checkpoint.run(
      this.subscription,
      position.commit.toString(),
      position.prepare.toString(),
    );
  }

  /** The server's record as last applied (undefined: no row, the stream had no boot yet). */
  record(id: string): ServerRecord | undefined {
    const stored = this.statements.record.get(id);
    return stored === undefined ? undefined : (JSON.parse(stored) as ServerRecord);
  }

  /** Servers matching the query in its order (Nova's default: newest first, created_at desc, id desc). */
  list(query: ServerQuery): ServerRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.projectId !== null) {
      where.push('project_id = ?');
      params.push(query.projectId);
    }
    if (query.deleted !== null) {
      where.push('deleted = ?');
      params.push(query.deleted ? 1 : 0);
    }
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    if (query.host !== undefined) {
      where.push('host = ?');
      params.push(query.host);
    }
    if (query.changesSince !== undefined) {
      where.push('updated_at >= ?');
      params.push(query.changesSince);
    }
    if (query.imageId !== undefined) {
      where.push('image_id = ?');
      params.push(query.imageId);
    }
    if (query.flavorId !== undefined) {
      where.push('flavor_id = ?');
      params.push(query.flavorId);
    }
    if (query.name !== undefined) {
      where.push('regexp(?, name)');
      params.push(query.name);
    }
    const sort = query.sort ?? DEFAULT_SORT;
    if (query.marker !== null) {
      const marker = this.statements.markerRow.get(query.marker);
      if (!marker || (query.projectId !== null && marker.project_id !== query.projectId)) {
        throw new MarkerNotFound(`marker [${query.marker}] not found`);
      }
      // After the marker in this order: past it on the first key, or level with it on the first keys
      // and past it on the next one.
      const after = sort.map(({ column, descending }, index) => {
        const level = sort.slice(0, index).map((key) => `${sortExpression(key.column)} = ?`);
        params.push(...sort.slice(0, index).map((key) => marker[key.column]), marker[column]);
        return `(${[...level, `${sortExpression(column)} ${descending ? '<' : '>'} ?`].join(' AND ')})`;
      });
      where.push(`(${after.join(' OR ')})`);
    }
    const order = sort
      .map(({ column, descending }) => `${sortExpression(column)} ${descending ? 'DESC' : 'ASC'}`)
      .join(', ');
    const sql = `SELECT record FROM servers ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order} LIMIT ?`;
    params.push(query.limit);
    const rows = this.db
      .prepare<unknown[], string>(sql)
      .pluck()
      .all(...params);
    return rows.map((row) => JSON.parse(row) as ServerRecord);
  }

  /**
   * The servers that may have run between two instants (ISO times), oldest first (created_at, id): every
   * server created before `stop` that still lives or changed last at or after `start`. A superset: the
   * caller keeps those whose launch and termination fall as usage needs.
   */
  createdBefore(projectId: string | null, start: string, stop: string): ServerRecord[] {
    const scope = projectId === null ? '' : 'project_id = @projectId AND';
    const rows = this.db
      .prepare<Record<string, string>, string>(
        `SELECT record FROM servers WHERE ${scope} created_at < @stop AND (deleted = 0 OR updated_at >= @start)
         ORDER BY created_at, id`,
      )
      .pluck()
      .all(projectId === null ? { start, stop } : { projectId, start, stop });
    return rows.map((row) => JSON.parse(row) as ServerRecord);
  }

  usage(projectId: string): InstanceUsage {
    const row = this.statements.usage.get(projectId);
    return { instances: row?.instances ?? 0, cores: row?.cores ?? 0, ramMb: row?.ram ?? 0 };
  }

  membersOf(serverGroupId: string): string[] {
    return this.statements.members.all(serverGroupId);
  }

  /**
   * Every live server of a project (null: of every project) with the `$all` position the rows are
   * folded up to. Events are applied synchronously, so the rows and the position cannot drift apart
   * between the two reads.
   */
  snapshot(projectId: string | null): { records: ServerRecord[]; position: Position | null } {
    const rows =
      projectId === null
        ? this.db
            .prepare<[], string>('SELECT record FROM servers WHERE deleted = 0 ORDER BY created_at, id')
            .pluck()
            .all()
        : this.db
            .prepare<[string], string>(
              'SELECT record FROM servers WHERE project_id = ? AND deleted = 0 ORDER BY created_at, id',
            )
            .pluck()
            .all(projectId);
    return { records: rows.map((row) => JSON.parse(row) as ServerRecord), position: this.position };
  }

  /** How many servers (deleted ones included) the table holds. */
  count(): number {
    return this.db.prepare<[], number>('SELECT COUNT(*) FROM servers').pluck().get() ?? 0;
  }

  close(): void {
    this.db.close();
  }
}
