/** `ops history`: every event of a stream with who caused it and what led to it. */
import { print, table, toJson } from '../cli.js';
import { actorOf, readHistory, summarize } from '../reading.js';
import { streamOf } from '../stream-ref.js';
import type { Command } from './command.js';

export const history: Command = {
  usage: 'history <stream|server> [--json]',
  summary: 'every event of a stream, oldest first',
  arity: [1, 1],
  async run(client, [reference = ''], { json }) {
    const stream = streamOf(reference);
    const entries = await readHistory(client, stream);
    if (entries === null) {
      process.stderr.write(`ops: stream ${stream} not found\n`);
      return 1;
    }
    const allValid = entries.every((entry) => entry.ok);
    if (json) {
      print(toJson(entries.map((entry) => (entry.ok ? entry.event : entry))));
      return allValid ? 0 : 1;
    }
    const rows = table(['rev', 'time', 'type', 'actor', 'correlation', 'causation', 'data']);
    for (const entry of entries) {
      if (!entry.ok) {
        rows.push([entry.revision.toString(), '', entry.type, '', '', '', `INVALID: ${entry.problem}`]);
        continue;
      }
      const { event } = entry;
      rows.push([
        event.revision.toString(),
        event.metadata.occurredAt,
        event.type,
        actorOf(event),
        event.metadata.correlationId,
        event.metadata.causationId ?? '-',
        summarize(event.data),
      ]);
    }
    print(`${stream}: ${entries.length} events\n${rows.toString()}`);
    return allValid ? 0 : 1;
  },
};
