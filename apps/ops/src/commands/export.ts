/**
 * `ops export`: Nimbus's streams as JSON Lines, one stored event a line, exactly as stored (type,
 * data, metadata with its ids), in `$all` order, so `ops import` can rebuild them elsewhere.
 * `--prefix` keeps whole streams whose name starts with it. Exports events as they are, even one
 * that breaks its contract (import refuses it): moving a store must not hide its faults.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

import { START } from '@eventstore/db-client';

import { UsageError, progress, toJson } from '../cli.js';
import { isDomainStream } from '../reading.js';
import type { Command } from './command.js';

export interface ExportedEvent {
  readonly stream: string;
  readonly revision: string;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

async function openOut(path: string | undefined): Promise<Writable> {
  if (path === undefined) return process.stdout;
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  try {
    await once(file, 'open');
  } catch (error) {
    throw new UsageError(
      `cannot create ${path}: ${(error as Error).message} (export never overwrites a file)`,
    );
  }
  return file;
}

export const exportStreams: Command = {
  usage: 'export [--prefix P]... [--out FILE]',
  summary: "Nimbus's streams as JSON Lines (to standard output, or a new FILE)",
  arity: [0, 0],
  async run(client, _args, { prefix, out }) {
    const target = await openOut(out);
    const shown = progress('export');
    let count = 0;
    for await (const resolved of client.readAll({ fromPosition: START, direction: 'forwards' })) {
      const event = resolved.event;
      if (!event || !isDomainStream(event.streamId)) continue;
      if (prefix.length > 0 && !prefix.some((start) => event.streamId.startsWith(start))) continue;
      const line: ExportedEvent = {
        stream: event.streamId,
        revision: event.revision.toString(),
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
      };
      if (!target.write(`${toJson(line, 0)}\n`)) await once(target, 'drain');
      count += 1;
      shown.tick(count);
    }
    shown.done(count);
    if (target !== process.stdout) {
      target.end();
      await once(target, 'finish');
      process.stderr.write(`ops: exported ${count} events to ${out ?? ''}\n`);
    }
    return 0;
  },
};
