/**
 * `ops diff <stream> <from> <to>`: how a stream's folded state changed between two points (revisions
 * or times), field by field, and the events that made the change.
 */
import { diffStates } from '../checks/state-diff.js';
import { UsageError, print, table, toJson } from '../cli.js';
import { actorOf, summarize } from '../reading.js';
import { isAtOrBefore, streamOf, streamPointOf } from '../stream-ref.js';
import type { Command } from './command.js';
import { foldUpTo, loadFoldable } from './fold.js';

const cell = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

export const diff: Command = {
  usage: 'diff <stream|server> <from> <to> [--json]',
  summary: 'what changed in the folded state between two revisions or times',
  arity: [3, 3],
  async run(client, [reference = '', fromText = '', toText = ''], { json }) {
    const stream = streamOf(reference);
    const from = streamPointOf(fromText, '<from>');
    const to = streamPointOf(toText, '<to>');
    const loaded = await loadFoldable(client, stream);
    if (loaded === null) {
      process.stderr.write(`ops: stream ${stream} not found\n`);
      return 1;
    }
    const before = foldUpTo(loaded, from);
    const after = foldUpTo(loaded, to);
    if (before.revision !== null && after.revision !== null && before.revision > after.revision)
      throw new UsageError(`<from> (revision ${before.revision}) is after <to> (revision ${after.revision})`);
    const changes = diffStates(before.state, after.state);
    const between = loaded.events.filter(
      (event) =>
        !isAtOrBefore(from, event.revision, event.metadata.occurredAt) &&
        isAtOrBefore(to, event.revision, event.metadata.occurredAt),
    );
    if (json) {
      print(toJson({ stream, from: before.revision, to: after.revision, changes, events: between }));
      return 0;
    }
    const name = (revision: bigint | null) =>
      revision === null ? 'before its first event' : `revision ${revision}`;
    const lines = [
      `${stream} from ${name(before.revision)} to ${name(after.revision)}: ${changes.length} field(s) changed by ${between.length} event(s)`,
    ];
    if (changes.length > 0) {
      const rows = table(['field', 'before', 'after']);
      for (const change of changes) rows.push([change.path, cell(change.before), cell(change.after)]);
      lines.push(rows.toString());
    }
    for (const event of between)
      lines.push(
        `  ${event.revision} ${event.metadata.occurredAt} ${event.type} by ${actorOf(event)} ${summarize(event.data)}`,
      );
    print(lines.join('\n'));
    return 0;
  },
};
