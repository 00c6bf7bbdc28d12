/**
 * `ops tail`: events as they are appended, live, filtered by stream prefix and event type. Starts after
 * the last event in the store when it is called (announced on standard error, so a script knows from
 * when it sees everything) and runs until interrupted, or until `--limit` events were printed.
 */
import { BACKWARDS, END, excludeSystemEvents } from '@eventstore/db-client';

import { decodeStored } from '#libs/event-store';

import { UsageError, print, toJson } from '../cli.js';
import { actorOf, isDomainStream, summarize } from '../reading.js';
import type { Command } from './command.js';

export const tail: Command = {
  usage: 'tail [--prefix P]... [--type T]... [--limit N] [--json]',
  summary: 'events as they are appended (one a line), until interrupted or --limit',
  arity: [0, 0],
  async run(client, _args, { prefix, type, limit, json }) {
    if (limit !== undefined && limit < 1) throw new UsageError('--limit must be at least 1');
    let fromPosition: typeof END | { commit: bigint; prepare: bigint } = END;
    for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
      if (resolved.event?.position) fromPosition = resolved.event.position;
    }
    const subscription = client.subscribeToAll({ fromPosition, filter: excludeSystemEvents() });
    const stop = () => void subscription.unsubscribe();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const where = fromPosition === END ? 'the end of an empty store' : `position ${fromPosition.commit}`;
    process.stderr.write(`ops: tailing after ${where}\n`);
    let printed = 0;
    try {
      for await (const resolved of subscription) {
        const recorded = resolved.event;
        if (!recorded || !isDomainStream(recorded.streamId)) continue;
        if (prefix.length > 0 && !prefix.some((start) => recorded.streamId.startsWith(start))) continue;
        if (type.length > 0 && !type.includes(recorded.type)) continue;
        const event = decodeStored(recorded);
        print(
          json
            ? toJson(event, 0)
            : `${event.metadata.occurredAt} ${event.stream}@${event.revision} ${event.type} by ${actorOf(event)} ${summarize(event.data)}`,
        );
        printed += 1;
        if (limit !== undefined && printed >= limit) break;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await subscription.unsubscribe();
    }
    return 0;
  },
};
