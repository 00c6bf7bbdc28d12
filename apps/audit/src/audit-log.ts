/**
 * The append-only audit log on disk (or standard output): opening a file checks the chain it already
 * holds and finds where it stopped (the last record's hash and feed position), so a new run appends
 * after it and the chain goes on; each record is written whole, one line, as it arrives.
 * Must never rewrite or truncate what a file holds, and never append to a file whose chain is broken.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

import {
  ChainVerifier,
  type FeedPosition,
  GENESIS_HASH,
  HASH_ATTRIBUTE,
  chainRecord,
  parsePosition,
} from '#libs/audit';

export class BrokenLog extends Error {}

export interface LogTail {
  readonly records: number;
  readonly lastHash: string;
  /** The feed position of the last record, null for an empty log. */
  readonly lastPosition: FeedPosition | null;
}

/** Reads a log and checks its chain; a broken one is refused with the line and why. */
export function readLogTail(file: string): LogTail {
  if (!existsSync(file)) return { records: 0, lastHash: GENESIS_HASH, lastPosition: null };
  const verifier = new ChainVerifier();
  let last: string | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const verdict = verifier.push(line);
    if (verdict && !verdict.ok)
      throw new BrokenLog(`${file} line ${verdict.line}: ${verdict.reason}; not appending to a broken log`);
    if (line !== '') last = line;
  }
  const verdict = verifier.end();
  if (!verdict.ok) throw new BrokenLog(`${file} line ${verdict.line}: ${verdict.reason}`);
  let lastPosition: FeedPosition | null = null;
  if (last !== null) {
    const record = JSON.parse(last) as Record<string, unknown>;
    lastPosition = typeof record.position === 'string' ? parsePosition(record.position) : null;
    if (lastPosition === null)
      throw new BrokenLog(
        `${file} line ${verdict.records}: the last record has no feed position to resume after`,
      );
  }
  return { records: verdict.records, lastHash: verdict.lastHash, lastPosition };
}

/** Appends chained records to a file, or writes them to a sink (standard output). */
export class AuditLogWriter {
  private previousHash: string;
  private readonly fd: number | null;
  private written = 0;

  constructor(target: { readonly file: string } | { readonly sink: (line: string) => void }, tail: LogTail) {
    this.previousHash = tail.lastHash;
    this.fd = 'file' in target ? openSync(target.file, 'a', 0o600) : null;
    this.sink = 'sink' in target ? target.sink : null;
  }

  private readonly sink: ((line: string) => void) | null;

  append(event: Readonly<Record<string, unknown>>): void {
    const record = chainRecord(event, this.previousHash);
    const line = `${JSON.stringify(record)}\n`;
    if (this.fd !== null) writeSync(this.fd, line);
    else this.sink?.(line);
    this.previousHash = record[HASH_ATTRIBUTE] as string;
    this.written += 1;
  }

  count(): number {
    return this.written;
  }

  /** Makes what was appended durable (a file's fsync), before its source is told it was kept. */
  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Flushes the file to disk and closes it. */
  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
