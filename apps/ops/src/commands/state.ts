/** `ops state`: the state a stream folds to, now or at a revision or a time. */
import { UsageError, print, toJson } from '../cli.js';
import { streamOf, timeOf } from '../stream-ref.js';
import type { Command } from './command.js';
import { foldUpTo, loadFoldable } from './fold.js';

export const state: Command = {
  usage: 'state <stream|server> [--revision N | --at T] [--json]',
  summary: 'the state the stream folds to (T: ISO 8601 time)',
  arity: [1, 1],
  async run(client, [reference = ''], { revision, at, json }) {
    const stream = streamOf(reference);
    if (revision !== undefined && at !== undefined) throw new UsageError('give --revision or --at, not both');
    if (revision !== undefined && !/^\d+$/.test(revision))
      throw new UsageError(`--revision must be a number, got ${revision}`);
    const time = at === undefined ? null : timeOf(at);
    if (at !== undefined && !time) throw new UsageError(`--at must be an ISO 8601 time, got ${at}`);
    const point = revision !== undefined ? { revision: BigInt(revision) } : time ? { at: time } : null;
    const loaded = await loadFoldable(client, stream);
    if (loaded === null) {
      process.stderr.write(`ops: stream ${stream} not found\n`);
      return 1;
    }
    const folded = foldUpTo(loaded, point);
    const revisionText = folded.revision === null ? 'none' : folded.revision.toString();
    print(
      json
        ? toJson({ stream, revision: folded.revision, state: folded.state })
        : `${stream} at revision ${revisionText}:\n${toJson(folded.state)}`,
    );
    return 0;
  },
};
