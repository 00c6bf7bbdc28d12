/**
 * Where the conformance suite runs: a real EventStoreDB/KurrentDB when EVENTSTORE_URL is set
 * (e.g. `esdb://localhost:2113?tls=false`), otherwise a freshly spawned embedded server.
 * Stream names carry a per-run suffix so the suite can share a server with other data.
 */
import { randomUUID } from 'node:crypto';

import { EventStoreDBClient } from '@eventstore/db-client';

import { type EventStoreProcess, startEventStoreProcess } from './event-store-process.js';

export interface ConformanceTarget {
  readonly client: EventStoreDBClient;
  /** A stream name unique to this run. */
  stream(label: string): string;
  close(): Promise<void>;
}

export async function conformanceTarget(): Promise<ConformanceTarget> {
  const run = randomUUID().slice(0, 8);
  let server: EventStoreProcess | null = null;
  const url = process.env.EVENTSTORE_URL ?? (server = await startEventStoreProcess()).connectionString;
  const client = EventStoreDBClient.connectionString(url);
  return {
    client,
    stream: (label) => `${label}_${run}_${randomUUID().slice(0, 8)}`,
    async close() {
      await client.dispose();
      await server?.stop();
    },
  };
}
