/**
 * Opening the event store's data folder: the one SQLite database in WAL mode with `synchronous=FULL`
 * (a commit that returned is on disk), locked exclusively for as long as this process lives (a second
 * server on the folder fails at once, naming the holder's pid), checked, and created or checked
 * against the storage format. A folder it cannot use is a DataFolderError with a message saying why
 * (the process exits 78 on it), never a crash loop.
 * Must never migrate an old format silently: a different format is refused.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Bumped when the table layout changes; an old data folder is refused, never silently migrated. */
const FORMAT_VERSION = '2';
const DATABASE_FILE = 'events.sqlite';
const PID_FILE = 'event-store.pid';

/** A data folder the store cannot use: corrupt, from another format, or held by another process. */
export class DataFolderError extends Error {
  override readonly name = 'DataFolderError';
}

/** The open database of a data folder, and how to let the folder go. */
export interface DataFolder {
  readonly db: Database.Database;
  close(): void;
}

export function openDataFolder(dataDir: string): DataFolder {
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, PID_FILE);
  const db = openDatabase(join(dataDir, DATABASE_FILE), pidFile);
  return {
    db,
    close: () => {
      if (db.open) db.close();
      rmSync(pidFile, { force: true });
    },
  };
}

function openDatabase(file: string, pidFile: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
    // EXCLUSIVE locking keeps the file locked for as long as this process lives, so a second
    // server on the same folder fails at once instead of interleaving writes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (error) {
    throw explainOpenFailure(error, file, pidFile);
  }
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new DataFolderError(`${file} is corrupt (${String(check)}); restore it from a backup`);
    migrate(db, file);
  } catch (error) {
    db.close();
    throw explainOpenFailure(error, file, pidFile);
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return db;
}

function migrate(db: Database.Database, file: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS format (version TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS events (
      pos          INTEGER PRIMARY KEY,
      stream       TEXT    NOT NULL,
      revision     INTEGER NOT NULL,
      id           TEXT    NOT NULL,
      type         TEXT    NOT NULL,
      content_type TEXT    NOT NULL,
      created_ms   INTEGER NOT NULL,
      data         BLOB    NOT NULL,
      metadata     BLOB    NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
    CREATE INDEX IF NOT EXISTS events_by_id ON events (stream, id);
  `);
  const row = db.prepare('SELECT version FROM format').get() as { version: string } | undefined;
  if (!row) {
    db.prepare('INSERT INTO format (version) VALUES (?)').run(FORMAT_VERSION);
  } else if (row.version !== FORMAT_VERSION) {
    throw new DataFolderError(
      `${file} has storage format ${row.version}, this server reads format ${FORMAT_VERSION}`,
    );
  }
}

function explainOpenFailure(error: unknown, file: string, pidFile: string): Error {
  if (error instanceof DataFolderError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    const holder = existsSync(pidFile) ? ` (pid ${readFileSync(pidFile, 'utf8').trim()})` : '';
    return new DataFolderError(`${file} is in use by another event store process${holder}`);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new DataFolderError(
      `${file} is not a readable event store database (${message}); restore it from a backup`,
    );
  }
  return new DataFolderError(`cannot open ${file}: ${message}`);
}
