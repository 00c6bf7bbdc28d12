/**
 * The parts of the one-machine install, in start order: how each is launched on loopback, how
 * its health is proven, and what it contributes to `.nimbus/env`. Later parts of the system add
 * themselves to SERVICES; `up` and `down` need no other change.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { preferredPort, freePort } from './ports.js';
import type { RunRecord, ServiceLaunch } from './supervisor.js';

export interface ServiceContext {
  readonly stateDir: string;
  readonly projectRoot: string;
  /** Environment from the services started before this one (EVENTSTORE_URL, NATS_URL, ...). */
  readonly env: Readonly<Record<string, string>>;
}

export interface ServiceSpec {
  readonly name: string;
  launch(context: ServiceContext): Promise<ServiceLaunch>;
  healthy(record: RunRecord): Promise<boolean>;
  /** Variables for `.nimbus/env`, from the running record. */
  exports(record: RunRecord): Record<string, string>;
}

const detail = (record: RunRecord, key: string): string => String(record.details[key]);

async function collectAll<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

const eventStore: ServiceSpec = {
  name: 'event-store',
  async launch({ stateDir, projectRoot }) {
    const port = await preferredPort(2113);
    const dataDir = join(stateDir, 'event-store');
    return {
      name: 'event-store',
      argv: [
        process.execPath,
        join(projectRoot, 'dist/apps/event-store/src/main.js'),
        '--data-dir',
        dataDir,
        '--port',
        String(port),
      ],
      details: { port, dataDir, url: `esdb://127.0.0.1:${port}?tls=false` },
    };
  },
  async healthy(record) {
    const client = EventStoreDBClient.connectionString(detail(record, 'url'));
    try {
      // Read to the end (one event at most): a call abandoned half-read keeps dispose() waiting.
      await collectAll(client.readAll({ maxCount: 1 }));
      return true;
    } catch {
      return false;
    } finally {
      await client.dispose();
    }
  },
  exports: (record) => ({ EVENTSTORE_URL: detail(record, 'url') }),
};

const nats: ServiceSpec = {
  name: 'nats',
  async launch({ stateDir }) {
    const port = await preferredPort(4222);
    const monitorPort = await freePort();
    const dir = resolve(stateDir, 'nats');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'nats.conf');
    // Debian's nats-server 2.9 cannot fsync each JetStream write (no sync_interval): the bus may
    // lose acknowledged messages on a crash, which is why nothing relies on it alone.
    writeFileSync(
      config,
      [
        `listen: 127.0.0.1:${port}`,
        `http: 127.0.0.1:${monitorPort}`,
        `server_name: nimbus-local`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'jetstream'))} }`,
        '',
      ].join('\n'),
    );
    return {
      name: 'nats',
      argv: ['/usr/sbin/nats-server', '-c', config],
      details: { port, monitorPort, url: `nats://127.0.0.1:${port}` },
    };
  },
  async healthy(record) {
    try {
      const connection = await connect({ servers: detail(record, 'url'), timeout: 1_000, reconnect: false });
      try {
        await (await jetstreamManager(connection)).getAccountInfo();
        return true;
      } finally {
        await connection.close();
      }
    } catch {
      return false;
    }
  },
  exports: (record) => ({ NATS_URL: detail(record, 'url') }),
};

export const SERVICES: readonly ServiceSpec[] = [eventStore, nats];
