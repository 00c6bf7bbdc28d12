/**
 * The operators' CLI: a stream's history as a readable table, and the state its aggregate folds to
 * at any revision or point in time.
 *
 *   npm run ops -- history <stream> [--json]
 *   npm run ops -- state <stream> [--revision N | --at <ISO time>]
 *
 * The store is EVENTSTORE_URL, else the one `npm run up` wrote to .nimbus/env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Table from 'cli-table3';
import { EventStoreDBClient } from '@eventstore/db-client';

import { reducerForStream } from '#libs/domain';

import { readHistory, summarize } from './history.js';

const USAGE = `usage:
  ops history <stream> [--json]              every event of a stream, oldest first
  ops state <stream> [--revision N | --at T] the state the stream folds to (T: ISO 8601 time)
options:
  --url <esdb://...>  the event store (default: EVENTSTORE_URL, then .nimbus/env)`;

class UsageError extends Error {}

function storeUrl(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.EVENTSTORE_URL) return process.env.EVENTSTORE_URL;
  if (existsSync('.nimbus/env')) {
    const match = /EVENTSTORE_URL='([^']+)'/.exec(readFileSync('.nimbus/env', 'utf8'));
    if (match?.[1]) return match[1];
  }
  throw new UsageError('no event store: set EVENTSTORE_URL, pass --url, or run `npm run up` first');
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner), 2);

async function history(client: EventStoreDBClient, stream: string, asJson: boolean): Promise<number> {
  const entries = await readHistory(client, stream);
  if (entries === null) {
    process.stderr.write(`ops: stream ${stream} not found\n`);
    return 1;
  }
  if (asJson) {
    process.stdout.write(`${json(entries.map((entry) => (entry.ok ? entry.event : entry)))}\n`);
    return entries.every((entry) => entry.ok) ? 0 : 1;
  }
  const table = new Table({
    head: ['rev', 'time', 'type', 'actor', 'correlation', 'causation', 'data'],
    wordWrap: true,
    // Colours only on a terminal: piped into a file, grep or a pager, the table stays plain text.
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  for (const entry of entries) {
    if (!entry.ok) {
      table.push([entry.revision.toString(), '', entry.type, '', '', '', `INVALID: ${entry.problem}`]);
      continue;
    }
    const { event } = entry;
    const { actor } = event.metadata;
    table.push([
      event.revision.toString(),
      event.metadata.occurredAt,
      event.type,
      `${actor.kind}:${actor.userId}${actor.projectId ? `@${actor.projectId}` : ''}`,
      event.metadata.correlationId,
      event.metadata.causationId ?? '-',
      summarize(event.data),
    ]);
  }
  process.stdout.write(`${stream}: ${entries.length} events\n${table.toString()}\n`);
  return entries.every((entry) => entry.ok) ? 0 : 1;
}

async function state(
  client: EventStoreDBClient,
  stream: string,
  revision?: string,
  at?: string,
): Promise<number> {
  const reducer = reducerForStream(stream);
  if (!reducer)
    throw new UsageError(`no aggregate folds ${stream} (instance-, host- and console- streams do)`);
  if (revision !== undefined && !/^\d+$/.test(revision))
    throw new UsageError(`--revision must be a number, got ${revision}`);
  const time = at === undefined ? undefined : new Date(at);
  if (time && Number.isNaN(time.getTime()))
    throw new UsageError(`--at must be an ISO 8601 time, got ${at ?? ''}`);
  const entries = await readHistory(client, stream);
  if (entries === null) {
    process.stderr.write(`ops: stream ${stream} not found\n`);
    return 1;
  }
  let folded = reducer.initial();
  let last: bigint | null = null;
  for (const entry of entries) {
    if (!entry.ok)
      throw new Error(`cannot fold past an invalid event at ${stream}@${entry.revision}: ${entry.problem}`);
    if (revision !== undefined && entry.event.revision > BigInt(revision)) break;
    if (time && new Date(entry.event.metadata.occurredAt) > time) break;
    folded = reducer.evolve(folded, entry.event);
    last = entry.event.revision;
  }
  process.stdout.write(
    `${stream} at revision ${last === null ? 'none' : last.toString()}:\n${json(folded)}\n`,
  );
  return 0;
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        revision: { type: 'string' },
        at: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, stream, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (!stream || extra.length > 0) throw new UsageError(`${command} takes exactly one stream name`);
  if (values.revision !== undefined && values.at !== undefined)
    throw new UsageError('give --revision or --at, not both');
  const client = EventStoreDBClient.connectionString(storeUrl(values.url as string | undefined));
  try {
    switch (command) {
      case 'history':
        return await history(client, stream, values.json === true);
      case 'state':
        return await state(
          client,
          stream,
          values.revision as string | undefined,
          values.at as string | undefined,
        );
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await client.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`ops: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`ops: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
