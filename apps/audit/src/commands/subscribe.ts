/**
 * `tail` and `export`: the reference subscriber of the audit feed. Each CloudEvent becomes one record of
 * the append-only log (standard output, or `--out FILE`, which it resumes after its last record); each
 * arrival is checked against the feed's links, so a duplicate is dropped and a gap is said out loud.
 * `export` stops at the end of what is stored; `tail` follows live events, reconnecting after its last
 * record when the connection drops or the token expires, until it is stopped. With `--nats NAME` the
 * events come from a durable NATS subscription instead, acknowledged once the log holds them.
 */
import {
  GENESIS_HASH,
  GapDetector,
  SUBSCRIPTION_NAME,
  type FeedPosition,
  formatPosition,
  parseFeedStart,
  parsePosition,
} from '#libs/audit';

import { AuditLogWriter, type LogTail, readLogTail } from '../audit-log.js';
import { type AuditIo, type AuditOptions, UsageError, credentialsFrom } from '../cli.js';
import { type FeedEnd, FeedRefused, feedUrl, readFeed } from '../feed-client.js';
import { type Session, login } from '../keystone.js';
import { readNatsFeed } from '../nats-feed.js';

const MAX_BACKOFF_MS = 5_000;
/** An export that keeps being cut gives up after this many tries in a row without progress. */
const EXPORT_TRIES = 5;

export interface SubscribeSummary {
  readonly records: number;
  readonly duplicates: number;
  readonly gaps: readonly { readonly after: string | null; readonly at: string }[];
  readonly lastPosition: string | null;
  readonly out: string | null;
}

export async function subscribe(
  mode: 'tail' | 'export',
  options: AuditOptions,
  io: AuditIo,
): Promise<number> {
  const start = parseFeedStart(options.since);
  if (start === null)
    throw new UsageError(
      `--since must be "beginning", a position or an RFC 3339 time, got ${options.since ?? ''}`,
    );
  if (options.allProjects && options.projectId !== undefined)
    throw new UsageError('give --project or --all-projects, not both');
  if (options.nats !== undefined && !SUBSCRIPTION_NAME.test(options.nats))
    throw new UsageError(
      `--nats names a subscription: 1 to 32 lower-case letters, digits and hyphens, got ${options.nats}`,
    );
  const credentials = credentialsFrom(io);
  const tail: LogTail = options.out
    ? readLogTail(options.out)
    : { records: 0, lastHash: GENESIS_HASH, lastPosition: null };
  if (tail.records > 0 && options.since !== undefined)
    throw new UsageError(
      `${options.out ?? ''} already holds ${tail.records} records: it resumes after the last one, so leave out --since`,
    );

  // Where the log stands: after its last record, else where --since says.
  let last: FeedPosition | null = tail.lastPosition ?? (start.kind === 'after' ? start.position : null);
  const detector = new GapDetector(tail.lastPosition ?? (start.kind === 'time' ? 'unknown' : last));
  const writer = new AuditLogWriter(
    options.out ? { file: options.out } : { sink: (line) => io.write(line) },
    tail,
  );
  let duplicates = 0;
  const gaps: { after: string | null; at: string }[] = [];

  const onEvent = (event: Record<string, unknown>): void => {
    const position = typeof event.position === 'string' ? parsePosition(event.position) : null;
    if (position === null) {
      io.warn(`audit: an event without a feed position (id ${String(event.id)}) was not kept`);
      return;
    }
    const previous =
      typeof event.previousposition === 'string' ? parsePosition(event.previousposition) : null;
    const arrival = detector.arrive(position, previous);
    if (arrival.kind === 'duplicate') {
      duplicates += 1;
      io.warn(
        `audit: duplicate at position ${formatPosition(position)} dropped (already kept up to ${last ? formatPosition(last) : '-'})`,
      );
      return;
    }
    if (arrival.kind === 'gap') {
      gaps.push({ after: arrival.after, at: formatPosition(position) });
      io.warn(
        `audit: GAP before position ${formatPosition(position)}: the log holds up to ${arrival.after ?? 'nothing'}, the feed's event follows ${arrival.claimed ?? 'the beginning'}; events in between may be missing`,
      );
    }
    writer.append(event);
    last = position;
  };

  let session: Session | null = null;
  let failures = 0;
  try {
    for (;;) {
      if (io.signal?.aborted) break;
      if (!session || session.expiresAt.getTime() - Date.now() < 60_000) session = await login(credentials);
      const since =
        last !== null ? formatPosition(last) : start.kind === 'time' ? (options.since ?? null) : null;
      const before = writer.count() + duplicates;
      const query = {
        since,
        follow: mode === 'tail',
        allProjects: options.allProjects,
        ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
      };
      const end: FeedEnd =
        options.nats === undefined
          ? await readFeed(feedUrl(session.apiUrl, query), session.token, onEvent, io.signal)
          : await readNatsFeed(
              session.apiUrl,
              session.token,
              { ...query, name: options.nats },
              (events) => {
                for (const event of events) onEvent(event);
                writer.sync();
              },
              io.signal,
            );
      if (io.signal?.aborted) break;
      if (end.kind === 'complete' && mode === 'export') break;
      const progressed = writer.count() + duplicates > before;
      failures = progressed ? 0 : failures + 1;
      if (mode === 'export' && failures >= EXPORT_TRIES)
        throw new Error(
          `the audit feed kept breaking (${end.kind === 'cut' ? end.reason : 'ended early'}); the log holds what arrived`,
        );
      if (end.kind === 'cut')
        io.warn(
          `audit: connection lost (${end.reason}); resuming after ${last ? formatPosition(last) : 'the beginning'}`,
        );
      else session = null; // a follow ends when the token expires: log in again
      await pause(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures), io.signal);
    }
  } catch (error) {
    if (error instanceof FeedRefused) {
      io.warn(`audit: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    writer.close();
  }

  const summary: SubscribeSummary = {
    records: writer.count(),
    duplicates,
    gaps,
    lastPosition: last ? formatPosition(last) : null,
    out: options.out ?? null,
  };
  report(summary, options, io);
  return gaps.length > 0 ? 1 : 0;
}

function report(summary: SubscribeSummary, options: AuditOptions, io: AuditIo): void {
  // Records own standard output when there is no --out; the summary then goes to standard error.
  const say = options.out ? (text: string) => io.write(text) : (text: string) => io.warn(text);
  if (options.json) {
    say(`${JSON.stringify(summary)}\n`);
    return;
  }
  say(
    `audit: ${summary.records} record(s) written${summary.out ? ` to ${summary.out}` : ''}, up to position ${summary.lastPosition ?? '-'}; ${summary.duplicates} duplicate(s) dropped; ${summary.gaps.length} gap(s)${summary.gaps.length > 0 ? ` (before ${summary.gaps.map((gap) => gap.at).join(', ')})` : ''}\n`,
  );
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
