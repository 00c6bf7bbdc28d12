/**
 * The JetStream stream every stored event is relayed into (NIMBUS_EVENTS over `nimbus.evt.>`), and the
 * idempotent set-up every process that touches it runs at start: create it when missing, bring the limits
 * Nimbus manages back to what the code says when they drifted.
 * Must never delete or purge the stream, and never change its storage type (JetStream cannot, and
 * recreating it would drop every consumer's position): such a mismatch stops start-up with an error.
 */
import { Logger } from '@nestjs/common';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

import { EVENTS_STREAM, EVENTS_STREAM_SUBJECTS } from '#libs/contracts';

/** The limits of NIMBUS_EVENTS; the defaults suit one machine (a production cluster raises them). */
export interface EventsStreamLimits {
  /**
   * How long JetStream remembers a message id to drop a re-publish (default 2 minutes). It covers a relay
   * restart from a checkpoint a few events behind; a longer outage re-delivers those few events, which
   * handlers tolerate because they are idempotent.
   */
  readonly duplicateWindowMs?: number;
  /** How long messages are kept, acknowledged or not (default 7 days). */
  readonly maxAgeMs?: number;
  /** The stream's size cap; the oldest messages go first (default 1 GiB). */
  readonly maxBytes?: number;
  /** The largest event message (default 1 MiB, NATS's default max payload). */
  readonly maxMessageBytes?: number;
  /** Copies of the stream on a JetStream cluster (default 1; 3 on a three-node cluster). */
  readonly replicas?: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** The settings of NIMBUS_EVENTS that Nimbus decides; JetStream's defaults stand for the rest. */
export type EventsStreamConfig = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'storage'>;

/** The configuration NIMBUS_EVENTS should have. */
export function eventsStreamConfig(limits: EventsStreamLimits = {}): EventsStreamConfig {
  return {
    name: EVENTS_STREAM,
    subjects: [EVENTS_STREAM_SUBJECTS],
    description: 'Every event stored in the Nimbus event store, relayed as an edge trigger',
    storage: StorageType.File,
    // Limits, not work-queue: several services consume each event, each through its own durable consumer.
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: limits.replicas ?? 1,
    duplicate_window: nanos(limits.duplicateWindowMs ?? 2 * MINUTE_MS),
    max_age: nanos(limits.maxAgeMs ?? 7 * DAY_MS),
    max_bytes: limits.maxBytes ?? 1024 ** 3,
    max_msg_size: limits.maxMessageBytes ?? 1024 ** 2,
    max_msgs: -1,
    max_msgs_per_subject: -1,
    max_consumers: -1,
  };
}

/** The managed settings in which `current` differs from `desired`: what an update would change. */
export function streamDrift(current: Partial<StreamConfig>, desired: EventsStreamConfig): string[] {
  const keys = [
    'subjects',
    'duplicate_window',
    'max_age',
    'max_bytes',
    'max_msg_size',
    'max_msgs',
    'discard',
  ] as const;
  return keys.filter((key) => JSON.stringify(current[key]) !== JSON.stringify(desired[key]));
}

/** Creates NIMBUS_EVENTS if missing, or updates its managed limits if they drifted; returns its info. */
export async function ensureEventsStream(
  manager: JetStreamManager,
  limits: EventsStreamLimits = {},
): Promise<StreamInfo> {
  const logger = new Logger('EventsStream');
  const desired = eventsStreamConfig(limits);
  const current = await streamInfo(manager, desired.name);
  if (current === null) {
    try {
      const created = await manager.streams.add(desired);
      logger.log(`created stream ${desired.name} on ${EVENTS_STREAM_SUBJECTS}`);
      return created;
    } catch (error) {
      // Another process created it between our look and our add: fall through and reconcile with it.
      const raced = await streamInfo(manager, desired.name);
      if (raced === null) throw error;
      return reconcile(manager, raced, desired, logger);
    }
  }
  return reconcile(manager, current, desired, logger);
}

async function reconcile(
  manager: JetStreamManager,
  current: StreamInfo,
  desired: EventsStreamConfig,
  logger: Logger,
): Promise<StreamInfo> {
  if (current.config.storage !== desired.storage) {
    throw new Error(
      `stream ${desired.name} uses ${current.config.storage} storage, not ${desired.storage}; ` +
        'JetStream cannot change it in place: recreate the stream deliberately (consumers restart from zero)',
    );
  }
  const drift = streamDrift(current.config, desired);
  if (drift.length === 0) return current;
  logger.warn(`stream ${desired.name}: updating ${drift.join(', ')} to the configured values`);
  return manager.streams.update(desired.name, { ...current.config, ...pick(desired, drift) });
}

async function streamInfo(manager: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await manager.streams.info(name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
}

function pick(config: EventsStreamConfig, keys: readonly string[]): Partial<StreamConfig> {
  return Object.fromEntries(keys.map((key) => [key, Reflect.get(config, key)]));
}
