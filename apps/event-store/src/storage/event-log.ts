/**
 * The durable log behind the embedded event store, in the database database.ts opens (WAL,
 * `synchronous=FULL`: a transaction that returned is on disk and survives `kill -9`).
 *
 * Appends are grouped: the caller runs many appends inside one `commit()` (one fsync), which is
 * what lets sixteen concurrent writers go faster than one. Expected-revision checks, idempotent
 * retries, soft deletes and tombstones follow EventStoreDB's rules.
 *
 * This module never talks gRPC and never decides how errors look on the wire.
 */
import type Database from 'better-sqlite3';

import { type DataFolder, openDataFolder } from './database.js';

import {
  type AppendOutcome,
  type CurrentRevision,
  type DeleteOutcome,
  type ExpectedRevision,
  type ProposedEvent,
  type ReadDirection,
  type RecordedEvent,
  type StreamLimits,
  METADATA_EVENT_TYPE,
  NO_LIMITS,
  SOFT_DELETED_TRUNCATE_BEFORE,
  TOMBSTONE_EVENT_TYPE,
  TOMBSTONE_REVISION,
  isMetastream,
  metastreamOf,
  ticksFromMs,
} from './records.js';
import { parseStreamLimits, withTruncateBefore } from './stream-metadata.js';

interface StreamState {
  /** Highest revision written, -1 when the stream has never had an event. Tombstone excluded. */
  lastRevision: bigint;
  tombstoned: boolean;
  limits: StreamLimits;
  metadataBody: Uint8Array | null;
}

/**
 * Rows come back as arrays of plain numbers (better-sqlite3 raw mode): the hot read path is several
 * times faster without per-row objects and BigInts. Positions and revisions stay below 2^53; the
 * tombstone is stored at revision -1 so that no stored integer needs 64 bits.
 */
type EventRow = [
  pos: number,
  stream: string,
  revision: number,
  id: string,
  type: string,
  contentType: string,
  createdMs: number,
  data: Buffer,
  metadata: Buffer,
];

const STORED_TOMBSTONE = -1;

const toRecord = (row: EventRow): RecordedEvent => ({
  position: BigInt(row[0]),
  stream: row[1],
  revision: row[2] === STORED_TOMBSTONE ? TOMBSTONE_REVISION : BigInt(row[2]),
  id: row[3],
  type: row[4],
  contentType: row[5],
  created: ticksFromMs(row[6]),
  data: row[7],
  metadata: row[8],
});

export type CommitListener = (records: readonly RecordedEvent[]) => void;

export interface EventLogOptions {
  readonly dataDir: string;
  /** Milliseconds since the epoch; injected so tests can age events for `$maxAge`. */
  readonly clock?: () => number;
}

export class EventLog {
  private readonly db: Database.Database;
  private readonly clock: () => number;
  private readonly states = new Map<string, StreamState>();
  private readonly listeners = new Set<CommitListener>();
  private pending: RecordedEvent[] = [];
  private lastPosition: bigint;
  private readonly folder: DataFolder;

  private readonly statements: {
    insert: Database.Statement;
    lastRevision: Database.Statement;
    hasTombstone: Database.Statement;
    lastEvent: Database.Statement;
    revisionOfId: Database.Statement;
    idsFrom: Database.Statement;
    streamForwards: Database.Statement;
    streamBackwards: Database.Statement;
    allForwards: Database.Statement;
    allBackwards: Database.Statement;
    maxPosition: Database.Statement;
  };

  constructor(options: EventLogOptions) {
    this.clock = options.clock ?? Date.now;
    this.folder = openDataFolder(options.dataDir);
    this.db = this.folder.db;
    const prepare = (sql: string): Database.Statement => this.db.prepare(sql);
    const rows = (sql: string): Database.Statement => this.db.prepare(sql).raw(true);
    const columns = 'pos, stream, revision, id, type, content_type, created_ms, data, metadata';
    this.statements = {
      insert: prepare(
        'INSERT INTO events (stream, revision, id, type, content_type, created_ms, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      lastRevision: prepare(`SELECT max(revision) AS r FROM events WHERE stream = ?`),
      hasTombstone: prepare(`SELECT 1 FROM events WHERE stream = ? AND revision = ${STORED_TOMBSTONE}`),
      lastEvent: rows(`SELECT ${columns} FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1`),
      // min() over the (stream, id) index: one probe however long the stream, and always one row.
      revisionOfId: prepare(
        'SELECT min(revision) AS revision FROM events INDEXED BY events_by_id WHERE stream = ? AND id = ?',
      ),
      idsFrom: prepare(
        'SELECT id, revision, pos FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      streamForwards: rows(
        `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      streamBackwards: rows(
        `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? AND revision >= 0 ORDER BY revision DESC LIMIT ?`,
      ),
      allForwards: rows(`SELECT ${columns} FROM events WHERE pos >= ? ORDER BY pos LIMIT ?`),
      allBackwards: rows(`SELECT ${columns} FROM events WHERE pos < ? ORDER BY pos DESC LIMIT ?`),
      maxPosition: prepare('SELECT max(pos) AS p FROM events'),
    };
    this.lastPosition = this.storedHead();
  }

  /** The position of the newest event in the log, 0 when empty. */
  get headPosition(): bigint {
    return this.lastPosition;
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `work` in one durable transaction and tells listeners what it wrote, after the commit.
   * If the transaction fails, nothing is kept: neither rows nor cached stream states.
   */
  commit<T>(work: () => T): T {
    this.pending = [];
    let result: T;
    try {
      result = this.db.transaction(work).immediate();
    } catch (error) {
      this.states.clear();
      this.pending = [];
      this.lastPosition = (this.statements.maxPosition.get() as { p: bigint | null }).p ?? 0n;
      throw error;
    }
    const committed = this.pending;
    this.pending = [];
    if (committed.length > 0) {
      for (const listener of this.listeners) listener(committed);
    }
    return result;
  }

  /** Appends to a stream; call inside `commit()`. */
  append(stream: string, expected: ExpectedRevision, events: readonly ProposedEvent[]): AppendOutcome {
    const state = this.state(stream);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = effectiveRevision(state);

    // A writer that names the revision it expects cannot meet its own events there unless the
    // check fails; one that expects 'any' or 'stream_exists' may be resending at any time.
    const exact = expected.kind === 'exact' || expected.kind === 'no_stream';
    if (!exact || !matches(expected, current)) {
      const replay = this.idempotentReplay(stream, state, expected, events);
      if (replay) return replay;
    }
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', expected, current };
    if (events.length === 0) return { kind: 'success', revision: current, position: null };

    if (isSoftDeleted(state)) {
      // Appending to a soft-deleted stream recreates it; earlier events stay hidden behind `$tb`.
      this.writeMetadata(stream, withTruncateBefore(state.metadataBody, state.lastRevision + 1n));
    }
    let last: RecordedEvent | undefined;
    for (const event of events) {
      last = this.insert(stream, state.lastRevision + 1n, event);
      state.lastRevision = last.revision;
    }
    if (isMetastream(stream) && last) this.applyMetadata(stream.slice(2), last);
    return { kind: 'success', revision: state.lastRevision, position: last?.position ?? null };
  }

  /** Soft delete: hides the stream's events behind `$tb`; a later append recreates it. */
  delete(stream: string, expected: ExpectedRevision): DeleteOutcome {
    const state = this.state(stream);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = effectiveRevision(state);
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', expected, current };
    const record = this.writeMetadata(
      stream,
      withTruncateBefore(state.metadataBody, SOFT_DELETED_TRUNCATE_BEFORE),
    );
    return { kind: 'success', position: record.position };
  }

  /** Hard delete: the stream can never be read or written again. */
  tombstone(stream: string, expected: ExpectedRevision): DeleteOutcome {
    const state = this.state(stream);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = effectiveRevision(state);
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', expected, current };
    const record = this.insert(stream, TOMBSTONE_REVISION, {
      id: crypto.randomUUID(),
      type: TOMBSTONE_EVENT_TYPE,
      contentType: 'application/octet-stream',
      data: new Uint8Array(),
      metadata: new Uint8Array(),
    });
    state.tombstoned = true;
    return { kind: 'success', position: record.position };
  }

  isTombstoned(stream: string): boolean {
    return this.state(stream).tombstoned;
  }

  /**
   * Reads a page of a stream as a client sees it: truncation (`$tb`, `$maxCount`, `$maxAge`)
   * applied, `null` when the stream does not exist (never written, or soft-deleted).
   */
  readStream(
    stream: string,
    from: bigint | 'start' | 'end',
    direction: ReadDirection,
    limit: number,
  ): RecordedEvent[] | null {
    const state = this.state(stream);
    if (state.lastRevision < 0n || isSoftDeleted(state)) return null;
    const floor = this.visibleFloor(state);
    let rows: EventRow[];
    if (direction === 'forwards') {
      if (from === 'end') return [];
      const start = from === 'start' ? floor : from > floor ? from : floor;
      rows = this.statements.streamForwards.all(stream, start, limit) as EventRow[];
    } else {
      if (from === 'start') return [];
      const start = from === 'end' ? state.lastRevision : from;
      rows = (this.statements.streamBackwards.all(stream, start, limit) as EventRow[]).filter(
        (row) => BigInt(row[2]) >= floor,
      );
    }
    return this.withinMaxAge(state, rows.map(toRecord));
  }

  /** Reads a page of `$all`: forwards from `position` inclusive, backwards from it exclusive. */
  readAll(position: bigint, direction: ReadDirection, limit: number): RecordedEvent[] {
    const statement = direction === 'forwards' ? this.statements.allForwards : this.statements.allBackwards;
    return (statement.all(position, limit) as EventRow[]).map(toRecord);
  }

  private storedHead(): bigint {
    const head = (this.statements.maxPosition.get() as { p: number | null }).p;
    return BigInt(head ?? 0);
  }

  close(): void {
    this.folder.close();
  }

  private insert(stream: string, revision: bigint, event: ProposedEvent): RecordedEvent {
    const createdMs = this.clock();
    const data = Buffer.from(event.data);
    const metadata = Buffer.from(event.metadata);
    const result = this.statements.insert.run(
      stream,
      revision === TOMBSTONE_REVISION ? STORED_TOMBSTONE : revision,
      event.id,
      event.type,
      event.contentType,
      createdMs,
      data,
      metadata,
    );
    const record: RecordedEvent = {
      position: BigInt(result.lastInsertRowid),
      stream,
      revision,
      id: event.id,
      type: event.type,
      contentType: event.contentType,
      created: ticksFromMs(createdMs),
      data,
      metadata,
    };
    this.lastPosition = record.position;
    this.pending.push(record);
    return record;
  }

  private writeMetadata(stream: string, body: Uint8Array): RecordedEvent {
    const metastream = metastreamOf(stream);
    const metaState = this.state(metastream);
    const record = this.insert(metastream, metaState.lastRevision + 1n, {
      id: crypto.randomUUID(),
      type: METADATA_EVENT_TYPE,
      contentType: 'application/json',
      data: body,
      metadata: new Uint8Array(),
    });
    metaState.lastRevision = record.revision;
    this.applyMetadata(stream, record);
    return record;
  }

  private applyMetadata(stream: string, record: RecordedEvent): void {
    const state = this.state(stream);
    state.metadataBody = record.data;
    state.limits = record.type === METADATA_EVENT_TYPE ? parseStreamLimits(record.data) : NO_LIMITS;
  }

  /**
   * EventStoreDB treats a resend of events it already holds, at the place the writer expected, as
   * success without writing them again. A partial match is not a replay and falls through.
   */
  private idempotentReplay(
    stream: string,
    state: StreamState,
    expected: ExpectedRevision,
    events: readonly ProposedEvent[],
  ): AppendOutcome | null {
    const first = events[0];
    if (!first || state.lastRevision < 0n) return null;
    const found = this.statements.revisionOfId.get(stream, first.id) as { revision: number | null };
    if (found.revision === null) return null;
    const start = BigInt(found.revision);
    if (expected.kind === 'exact' && start !== expected.revision + 1n) return null;
    if (expected.kind === 'no_stream' && start !== this.firstRevision(state)) return null;
    const stored = this.statements.idsFrom.all(stream, start, events.length) as {
      id: string;
      revision: number;
      pos: number;
    }[];
    if (stored.length !== events.length) return null;
    if (!stored.every((row, index) => row.id === events[index]?.id)) return null;
    const last = stored[stored.length - 1];
    return last ? { kind: 'success', revision: BigInt(last.revision), position: BigInt(last.pos) } : null;
  }

  private firstRevision(state: StreamState): bigint {
    const tb = state.limits.truncateBefore;
    return tb !== null && tb !== SOFT_DELETED_TRUNCATE_BEFORE ? tb : 0n;
  }

  private visibleFloor(state: StreamState): bigint {
    let floor = this.firstRevision(state);
    const { maxCount } = state.limits;
    if (maxCount !== null) {
      const byCount = state.lastRevision - maxCount + 1n;
      if (byCount > floor) floor = byCount;
    }
    return floor;
  }

  private withinMaxAge(state: StreamState, records: RecordedEvent[]): RecordedEvent[] {
    const { maxAgeSeconds } = state.limits;
    if (maxAgeSeconds === null) return records;
    const oldest = ticksFromMs(this.clock()) - maxAgeSeconds * 10_000_000n;
    return records.filter((record) => record.created >= oldest);
  }

  private state(stream: string): StreamState {
    let state = this.states.get(stream);
    if (state) return state;
    const last = (this.statements.lastRevision.get(stream) as { r: number | null }).r;
    const tombstoned = this.statements.hasTombstone.get(stream) !== undefined;
    state = { lastRevision: BigInt(last ?? -1), tombstoned, limits: NO_LIMITS, metadataBody: null };
    if (!isMetastream(stream)) {
      const meta = this.statements.lastEvent.get(metastreamOf(stream)) as EventRow | undefined;
      if (meta) {
        state.metadataBody = meta[7];
        state.limits = meta[4] === METADATA_EVENT_TYPE ? parseStreamLimits(meta[7]) : NO_LIMITS;
      }
    }
    this.states.set(stream, state);
    return state;
  }
}

const isSoftDeleted = (state: StreamState): boolean =>
  state.limits.truncateBefore === SOFT_DELETED_TRUNCATE_BEFORE;

/** The revision an expected-revision check compares against; a soft-deleted stream is no stream. */
function effectiveRevision(state: StreamState): CurrentRevision {
  if (state.lastRevision < 0n || isSoftDeleted(state)) return null;
  return state.lastRevision;
}

function matches(expected: ExpectedRevision, current: CurrentRevision): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === null;
    case 'stream_exists':
      return current !== null;
    case 'exact':
      return current === expected.revision;
  }
}
