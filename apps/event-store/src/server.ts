/**
 * The embedded EventStoreDB-protocol server: a gRPC server with the Streams and ServerFeatures
 * services over one durable EventLog. Used as its own process (main.ts) and in-process by tests.
 * It advertises exactly the methods it implements, so the official client takes its production
 * paths (BatchAppend for appends) and never calls what is not here.
 */
import * as grpc from '@grpc/grpc-js';

import { EventLog } from './storage/event-log.js';
import { GroupCommit } from './storage/group-commit.js';
import {
  ServerFeaturesService,
  StreamsService as StreamsServiceDefinition,
  featuresPb,
} from './grpc/protocol.js';
import { StreamsService } from './grpc/streams.service.js';

export const SERVER_VERSION = '24.10.0-nimbus';

/** EventStoreDB's default limit on one append's total payload. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

export interface EmbeddedEventStoreOptions {
  readonly dataDir: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly maxAppendSize?: number;
  readonly clock?: () => number;
}

export interface EmbeddedEventStore {
  readonly port: number;
  /** A connection string for `EventStoreDBClient.connectionString`. */
  readonly connectionString: string;
  close(): Promise<void>;
}

const IMPLEMENTED: ReadonlyArray<readonly [service: string, method: string]> = [
  ['event_store.client.streams.Streams', 'Read'],
  ['event_store.client.streams.Streams', 'Append'],
  ['event_store.client.streams.Streams', 'BatchAppend'],
  ['event_store.client.streams.Streams', 'Delete'],
  ['event_store.client.streams.Streams', 'Tombstone'],
  ['event_store.client.server_features.ServerFeatures', 'GetSupportedMethods'],
];

function supportedMethods(): featuresPb.SupportedMethods {
  const methods = new featuresPb.SupportedMethods();
  methods.setEventStoreServerVersion(SERVER_VERSION);
  methods.setMethodsList(
    IMPLEMENTED.map(([service, method]) => {
      const supported = new featuresPb.SupportedMethod();
      supported.setServiceName(service);
      supported.setMethodName(method.toLowerCase());
      return supported;
    }),
  );
  return methods;
}

export async function startEmbeddedEventStore(
  options: EmbeddedEventStoreOptions,
): Promise<EmbeddedEventStore> {
  const log = new EventLog({ dataDir: options.dataDir, ...(options.clock ? { clock: options.clock } : {}) });
  const streams = new StreamsService(log, new GroupCommit(log), {
    maxAppendSize: options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE,
  });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 17 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(StreamsServiceDefinition, streams.handlers);
  server.addService(ServerFeaturesService, {
    getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<featuresPb.SupportedMethods>) => {
      callback(null, supportedMethods());
    },
  });

  const host = options.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${host}:${options.port ?? 0}`,
        grpc.ServerCredentials.createInsecure(),
        (error, bound) => {
          if (error) reject(error);
          else resolve(bound);
        },
      );
    });
  } catch (error) {
    log.close();
    throw error;
  }

  let closed = false;
  return {
    port,
    connectionString: `esdb://${host}:${port}?tls=false`,
    close: async () => {
      if (closed) return;
      closed = true;
      streams.closeAll();
      // Long-lived calls (subscriptions, the BatchAppend stream) never end on their own; every
      // acknowledged write is already durable, so cutting them is safe.
      server.forceShutdown();
      await new Promise<void>((resolve) => setImmediate(resolve));
      log.close();
    },
  };
}
