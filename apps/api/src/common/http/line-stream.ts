/**
 * A long-lived JSON Lines response (`application/x-ndjson`, chunked): one JSON value a line, written with
 * the socket's backpressure (a slow reader slows the writer, nothing piles up in memory), a blank line as a
 * heartbeat so proxies and clients can tell an idle feed from a dead one, and an end when the client goes,
 * when the caller ends it, when the deadline (the token's expiry) passes, or when the token stops being valid.
 * Must be opened only after every check that can fail with an error body: from here on the status is 200.
 */
import { once } from 'node:events';

import type { FastifyReply } from 'fastify';

import type { Clock } from '../store/tokens.js';

/** A blank line this often keeps proxies from closing an idle stream and shows the client it lives. */
const HEARTBEAT_MS = 15_000;

export interface LineStreamOptions {
  /** Default 15 s. */
  readonly heartbeatMs?: number;
  /** Ends the stream at this instant, by the API's clock (checked on every write and by a timer). */
  readonly deadline: Date;
  readonly clock: Clock;
  /** Ends the stream when it aborts: the token stopped being valid before its deadline. */
  readonly cancel?: AbortSignal;
}

export interface LineStream {
  /** Writes one line; resolves when the socket can take more (or the stream has ended). */
  send(value: unknown): Promise<void>;
  /** Whether the client went away, the deadline passed or end() was called. */
  ended(): boolean;
  /** Resolves when the stream ends, for whatever reason. */
  readonly done: Promise<void>;
  /** Ends the response: the client sees the end of the body. */
  end(): void;
  /**
   * Cuts the connection without ending the body, so the client sees a broken transfer rather than an
   * end: for failures, which a clean end would disguise as "nothing more".
   */
  abort(): void;
}

/** Every stream still open, so a shutdown can cut them: otherwise they would hold the close open. */
const open = new Set<LineStream>();

/** Cuts every open stream (their clients resume from their last position); for the API's shutdown. */
export function abortLineStreams(): void {
  for (const stream of open) stream.abort();
}

export function openLineStream(reply: FastifyReply, options: LineStreamOptions): LineStream {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders()))
    if (value !== undefined) headers[name] = value;
  raw.writeHead(200, {
    ...headers,
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();

  let finished = false;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  const finish = (): void => {
    if (finished) return;
    finished = true;
    open.delete(stream);
    clearInterval(heartbeat);
    clearTimeout(expiry);
    options.cancel?.removeEventListener('abort', finish);
    if (!raw.writableEnded) raw.end();
    markDone();
  };
  const pastDeadline = (): boolean => options.clock().getTime() >= options.deadline.getTime();
  const heartbeat = setInterval(() => {
    if (pastDeadline()) finish();
    else if (!finished) raw.write('\n');
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  // Timers hold at most about 24.8 days; a longer deadline is caught by the heartbeat's check.
  const expiry = setTimeout(
    finish,
    Math.min(2_147_483_647, Math.max(0, options.deadline.getTime() - options.clock().getTime())),
  );
  raw.on('close', finish);
  raw.on('error', finish);

  const stream: LineStream = {
    async send(value) {
      if (finished) return;
      if (pastDeadline()) {
        finish();
        return;
      }
      if (raw.write(`${JSON.stringify(value)}\n`)) return;
      await Promise.race([once(raw, 'drain').catch(() => undefined), done]);
    },
    ended: () => finished,
    done,
    end: finish,
    abort() {
      if (finished) return;
      raw.destroy();
      finish();
    },
  };
  open.add(stream);
  if (options.cancel?.aborted) finish();
  else options.cancel?.addEventListener('abort', finish);
  return stream;
}
