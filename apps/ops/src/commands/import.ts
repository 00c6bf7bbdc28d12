/**
 * `ops import FILE`: appends the events of an `ops export` to this store. Everything is checked before
 * anything is written: each line's shape and contract, each stream's revisions 0, 1, 2, ... in order,
 * and what the store already holds. A stream the store holds a prefix of is completed; one it holds
 * whole is left alone (so an import can be run again); one that differs stops the import with the
 * stream and revision, and nothing is written. Appends keep the file's order and each states the
 * revision it expects, so a writer racing the import fails it instead of interleaving.
 */
import { readFileSync } from 'node:fs';

import { type EventStoreDBClient, NO_STREAM, StreamNotFoundError, jsonEvent } from '@eventstore/db-client';

import { PATTERNS, decodeEvent } from '#libs/contracts';

import { UsageError, progress } from '../cli.js';
import { isDomainStream } from '../reading.js';
import type { Command } from './command.js';
import type { ExportedEvent } from './export.js';

interface Line extends Omit<ExportedEvent, 'data' | 'metadata'> {
  readonly line: number;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseLine(text: string, line: number): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`line ${line}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new UsageError(`line ${line}: not a JSON object`);
  const { stream, revision, id, type, data, metadata } = value;
  if (typeof stream !== 'string' || !isDomainStream(stream))
    throw new UsageError(`line ${line}: "stream" must name one of Nimbus's streams`);
  if (typeof revision !== 'string' || !/^\d+$/.test(revision))
    throw new UsageError(`line ${line}: "revision" must be a decimal string`);
  if (typeof id !== 'string' || !PATTERNS.uuid.test(id))
    throw new UsageError(`line ${line}: "id" must be a lowercase UUID`);
  if (typeof type !== 'string') throw new UsageError(`line ${line}: "type" must be a string`);
  if (!isObject(data) || !isObject(metadata))
    throw new UsageError(`line ${line}: "data" and "metadata" must be objects`);
  try {
    decodeEvent({ type, data, metadata });
  } catch (error) {
    throw new UsageError(
      `line ${line}: ${stream}@${revision} breaks its contract: ${(error as Error).message}`,
    );
  }
  return { line, stream, revision, id, type, data, metadata };
}

function readLines(path: string): Line[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const lines: Line[] = [];
  text.split('\n').forEach((content, index) => {
    if (content.trim() !== '') lines.push(parseLine(content, index + 1));
  });
  const next = new Map<string, bigint>();
  for (const line of lines) {
    const expected = next.get(line.stream) ?? 0n;
    if (BigInt(line.revision) !== expected)
      throw new UsageError(
        `line ${line.line}: ${line.stream} jumps to revision ${line.revision}, expected ${expected}`,
      );
    next.set(line.stream, expected + 1n);
  }
  return lines;
}

async function storedIds(client: EventStoreDBClient, stream: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const resolved of client.readStream(stream)) if (resolved.event) ids.push(resolved.event.id);
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return ids;
}

/** How many of each stream's events the store already holds; throws when a stream differs. */
async function plan(client: EventStoreDBClient, lines: readonly Line[]): Promise<Map<string, number>> {
  const byStream = new Map<string, Line[]>();
  for (const line of lines) byStream.set(line.stream, [...(byStream.get(line.stream) ?? []), line]);
  const present = new Map<string, number>();
  for (const [stream, events] of byStream) {
    const ids = await storedIds(client, stream);
    const differs = ids.findIndex((id, revision) => revision < events.length && events[revision]?.id !== id);
    if (differs >= 0)
      throw new Error(
        `${stream} already holds a different event at revision ${differs}; nothing was imported`,
      );
    if (ids.length > events.length)
      throw new Error(
        `${stream} holds ${ids.length} events, more than the file's ${events.length}; nothing was imported`,
      );
    present.set(stream, ids.length);
  }
  return present;
}

export const importStreams: Command = {
  usage: 'import <FILE|->',
  summary: 'appends the events of an export; checks everything before writing anything',
  arity: [1, 1],
  async run(client, [path = '']) {
    const lines = readLines(path);
    const present = await plan(client, lines);
    const toWrite = lines.filter((line) => BigInt(line.revision) >= BigInt(present.get(line.stream) ?? 0));
    const shown = progress('import');
    let written = 0;
    // Consecutive events of one stream go in one append, in the file's ($all) order.
    for (let start = 0; start < toWrite.length;) {
      const first = toWrite[start] as Line;
      let end = start + 1;
      while (end < toWrite.length && toWrite[end]?.stream === first.stream) end += 1;
      const run = toWrite.slice(start, end);
      const revision = BigInt(first.revision);
      await client.appendToStream(
        first.stream,
        run.map((line) =>
          jsonEvent({
            id: line.id,
            type: line.type,
            data: line.data,
            metadata: line.metadata,
          }),
        ),
        { expectedRevision: revision === 0n ? NO_STREAM : revision - 1n },
      );
      written += run.length;
      shown.tick(written);
      start = end;
    }
    shown.done(written);
    const streams = new Set(lines.map((line) => line.stream)).size;
    process.stdout.write(
      `imported ${written} events into ${streams} streams; ${lines.length - written} were already there\n`,
    );
    return 0;
  },
};
