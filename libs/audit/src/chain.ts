/**
 * The tamper-evident audit log: JSON Lines, one CloudEvent a record, each carrying `prevhash` (the hash
 * of the record before it, 64 zeros for the first) and `hash` (SHA-256 over the record's canonical JSON
 * without `hash`: keys sorted, no spaces). Changing, dropping, inserting or reordering a record breaks the
 * chain at that record. Both are CloudEvents extension attributes, so every line stays a CloudEvent.
 * Must never trust a record's own `hash`: verification recomputes every one.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
export const HASH_ATTRIBUTE = 'hash';
export const PREVIOUS_HASH_ATTRIBUTE = 'prevhash';

/** JSON with object keys sorted at every depth: one text per value, whatever order it was built in. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
}

export function recordHash(record: Readonly<Record<string, unknown>>): string {
  const { [HASH_ATTRIBUTE]: _ignored, ...rest } = record;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** A CloudEvent (as plain JSON) chained after the record whose hash is `previousHash`. */
export function chainRecord(
  event: Readonly<Record<string, unknown>>,
  previousHash: string,
): Record<string, unknown> {
  const { [HASH_ATTRIBUTE]: _hash, [PREVIOUS_HASH_ATTRIBUTE]: _previous, ...plain } = event;
  const record: Record<string, unknown> = { ...plain, [PREVIOUS_HASH_ATTRIBUTE]: previousHash };
  record[HASH_ATTRIBUTE] = recordHash(record);
  return record;
}

export type ChainVerdict =
  | { readonly ok: true; readonly records: number; readonly lastHash: string }
  | { readonly ok: false; readonly records: number; readonly line: number; readonly reason: string };

/**
 * Checks a log's lines in order (line numbers from 1). A final empty line (the file's last newline) is
 * not a record; any other empty line is.
 */
export function verifyChain(lines: Iterable<string>): ChainVerdict {
  const verifier = new ChainVerifier();
  for (const line of lines) {
    const verdict = verifier.push(line);
    if (verdict) return verdict;
  }
  return verifier.end();
}

/** The same check fed one line at a time, for logs read as a stream. */
export class ChainVerifier {
  private lineNumber = 0;
  private records = 0;
  private previous = GENESIS_HASH;
  private pendingBlank: number | null = null;

  /** Returns the verdict when this line breaks the chain, else undefined. */
  push(line: string): ChainVerdict | undefined {
    this.lineNumber += 1;
    if (this.pendingBlank !== null) return this.bad(this.pendingBlank, 'an empty line is not a record');
    if (line === '') {
      this.pendingBlank = this.lineNumber;
      return undefined;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return this.bad(this.lineNumber, 'not JSON');
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return this.bad(this.lineNumber, 'not a JSON object');
    const fields = record as Record<string, unknown>;
    const { [HASH_ATTRIBUTE]: hash, [PREVIOUS_HASH_ATTRIBUTE]: previous } = fields;
    if (typeof hash !== 'string' || typeof previous !== 'string')
      return this.bad(this.lineNumber, `no ${PREVIOUS_HASH_ATTRIBUTE} and ${HASH_ATTRIBUTE}`);
    if (previous !== this.previous)
      return this.bad(
        this.lineNumber,
        `${PREVIOUS_HASH_ATTRIBUTE} ${previous.slice(0, 12)}… is not the hash of the record before (${this.previous.slice(0, 12)}…): a record was removed, inserted or reordered`,
      );
    if (recordHash(fields) !== hash)
      return this.bad(this.lineNumber, 'its hash does not match its content: the record was changed');
    this.previous = hash;
    this.records += 1;
    return undefined;
  }

  end(): ChainVerdict {
    return { ok: true, records: this.records, lastHash: this.previous };
  }

  private bad(line: number, reason: string): ChainVerdict {
    return { ok: false, records: this.records, line, reason };
  }
}
