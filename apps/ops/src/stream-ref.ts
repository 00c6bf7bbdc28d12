/**
 * How operators name a stream on the command line: its full name (`host-h1`, `instance-<uuid>`), or a
 * server by its bare id, as `openstack server list` prints it. Never guesses beyond that: anything else
 * is refused with what was expected.
 */
import { PATTERNS, parseStreamName, streamFor } from '#libs/contracts';

import { UsageError } from './cli.js';

export function streamOf(reference: string): string {
  if (PATTERNS.uuid.test(reference)) return streamFor('instance', reference);
  try {
    parseStreamName(reference);
  } catch {
    throw new UsageError(
      `${JSON.stringify(reference)} is neither a server id (a lowercase UUID) nor a stream name ` +
        '(<category>-<id>, e.g. instance-<uuid>, host-<name>)',
    );
  }
  return reference;
}

/** A server's instance stream, from its id or its stream name. */
export function instanceStreamOf(reference: string): {
  readonly stream: string;
  readonly instanceId: string;
} {
  const stream = streamOf(reference);
  const { category, id } = parseStreamName(stream);
  if (category !== 'instance')
    throw new UsageError(`${reference} is not a server (instance-<uuid> or a bare id)`);
  return { stream, instanceId: id };
}

/** A point in a stream: a revision number or an ISO 8601 time. */
export type StreamPoint = { readonly revision: bigint } | { readonly at: Date };

export function streamPointOf(text: string, what: string): StreamPoint {
  if (/^\d+$/.test(text)) return { revision: BigInt(text) };
  const at = timeOf(text);
  if (!at)
    throw new UsageError(
      `${what} must be a revision number or an ISO 8601 time, got ${JSON.stringify(text)}`,
    );
  return { at };
}

/** An ISO 8601 time (a date at least), or null. */
export function timeOf(text: string): Date | null {
  const at = new Date(text);
  return /^\d{4}-\d\d-\d\d/.test(text) && !Number.isNaN(at.getTime()) ? at : null;
}

/** Whether an event with this revision and time is at or before the point. */
export function isAtOrBefore(point: StreamPoint, revision: bigint, occurredAt: string): boolean {
  return 'revision' in point ? revision <= point.revision : new Date(occurredAt) <= point.at;
}
