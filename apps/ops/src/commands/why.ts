/**
 * `ops why <server>`: the server's current state and the causation tree behind it: the users'
 * requests at the roots, and under each what reacted to it, in the instance's stream and in the streams
 * it touched (its claims on hosts, its console tokens). Where scheduling decided, the filter trace says
 * which filter removed which hosts.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';

import { type SchedulingTrace, streamFor } from '#libs/contracts';
import { type InstanceState, instanceReducer, serverStatus } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { type CausationNode, causationForest, renderForest } from '../checks/causation.js';
import { print, toJson } from '../cli.js';
import { actorOf, readHistory, summarize } from '../reading.js';
import { instanceStreamOf } from '../stream-ref.js';
import type { Command } from './command.js';

interface Related {
  readonly host?: string;
  readonly tokenHash?: string;
  readonly instanceId?: string;
  readonly trace?: SchedulingTrace;
}

/** The events of other streams that belong to this server: claims on its hosts, its consoles. */
async function relatedEvents(
  client: EventStoreDBClient,
  instanceId: string,
  own: readonly StoredEvent[],
): Promise<StoredEvent[]> {
  const streams = new Set<string>();
  for (const event of own) {
    const data = event.data as Related;
    if (data.host) streams.add(streamFor('host', data.host));
    if (event.type === 'ConsoleTokenIssued' && data.tokenHash)
      streams.add(streamFor('console', data.tokenHash));
  }
  const related: StoredEvent[] = [];
  for (const stream of streams) {
    for (const entry of (await readHistory(client, stream)) ?? []) {
      if (entry.ok && (entry.event.data as Related).instanceId === instanceId) related.push(entry.event);
    }
  }
  return related;
}

function traceLines(trace: SchedulingTrace): string[] {
  const lines = [`hosts considered: ${trace.hostsIn}`];
  for (const step of trace.filters) {
    const named =
      step.rejected.length > 0
        ? ` (${step.rejected.join(', ')}${step.rejectedCount > step.rejected.length ? ', ...' : ''})`
        : '';
    lines.push(`${step.filter}: ${step.remaining} left, ${step.rejectedCount} removed${named}`);
  }
  if (trace.weighed.length > 0)
    lines.push(
      `weighed: ${trace.weighed.map(({ host, weight }) => `${host} ${weight.toFixed(3)}`).join(', ')}`,
    );
  return lines;
}

function label(event: StoredEvent): string {
  const head = `${event.type} ${event.stream}@${event.revision.toString()} ${event.metadata.occurredAt} by ${actorOf(event)}`;
  const trace = (event.data as Related).trace;
  const detail = trace
    ? traceLines(trace)
        .map((line) => `\n      ${line}`)
        .join('')
    : '';
  return `${head}  ${summarize(event.data)}${detail}`;
}

function summaryOf(state: InstanceState) {
  return {
    id: state.id,
    name: state.name,
    status: serverStatus(state),
    taskState: state.taskState,
    host: state.host,
    attempt: state.attempt,
    failedHosts: state.failedHosts,
    fault: state.fault,
  };
}

const asTree = (node: CausationNode): object => ({
  stream: node.event.stream,
  revision: node.event.revision,
  type: node.event.type,
  eventId: node.event.metadata.eventId,
  occurredAt: node.event.metadata.occurredAt,
  actor: node.event.metadata.actor,
  data: node.event.data,
  causedBy: node.event.metadata.causationId,
  led: node.children.map(asTree),
});

export const why: Command = {
  usage: 'why <server> [--json]',
  summary: "the server's state and the causation tree behind it, with the scheduler's filter trace",
  arity: [1, 1],
  async run(client, [reference = ''], { json }) {
    const { stream, instanceId } = instanceStreamOf(reference);
    const entries = await readHistory(client, stream);
    if (entries === null) {
      process.stderr.write(`ops: server ${instanceId} not found (no stream ${stream})\n`);
      return 1;
    }
    const own = entries.flatMap((entry) => (entry.ok ? [entry.event] : []));
    const state = own.reduce(instanceReducer.evolve, instanceReducer.initial());
    const forest = causationForest([...own, ...(await relatedEvents(client, instanceId, own))]);
    const invalid = entries.length - own.length;
    if (json) {
      print(toJson({ server: summaryOf(state), invalidEvents: invalid, causes: forest.map(asTree) }));
      return invalid === 0 ? 0 : 1;
    }
    const summary = summaryOf(state);
    const lines = [
      `server ${summary.id} (${summary.name}): ${summary.status}${summary.taskState ? `, ${summary.taskState}` : ''}` +
        `${summary.host ? ` on ${summary.host}` : ''}, attempt ${summary.attempt}`,
    ];
    if (summary.failedHosts.length > 0) lines.push(`failed on: ${summary.failedHosts.join(', ')}`);
    if (summary.fault) lines.push(`fault: ${summary.fault.code} ${summary.fault.message}`);
    if (invalid > 0) lines.push(`${invalid} event(s) of this stream break their contract: see ops history`);
    lines.push('', 'why (each event under the one it reacted to):', ...renderForest(forest, label));
    print(lines.join('\n'));
    return invalid === 0 ? 0 : 1;
  },
};
