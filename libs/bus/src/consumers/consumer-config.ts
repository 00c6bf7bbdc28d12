/**
 * How a handler's durable pull consumer on NIMBUS_EVENTS is named and configured, and how long a failed
 * message waits before it comes again. Pure, so the names and numbers are tested without a server.
 * Must never derive two handlers' consumers to one name (they would steal each other's messages) and never
 * configure a consumer that acknowledges for the handler (ack policy is explicit, after success only).
 */
import { AckPolicy, type ConsumerConfig, DeliverPolicy, ReplayPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

import { EVENT_SUBJECT_PREFIX } from '#libs/contracts';

/** Per-consumer settings; each has a default sized for a control plane's event rate. */
export interface ConsumerSettings {
  /**
   * How long the server waits for an ack before redelivering (default 30 s). A running handler keeps
   * its message alive with progress signals every half of this, so slow work is not delivered twice.
   */
  readonly ackWaitMs?: number;
  /** Delivered but unacknowledged messages the server allows across this consumer's replicas (default 64). */
  readonly maxAckPending?: number;
  /** Deliveries before JetStream gives up on a message (default -1: never; the reconciler is the backstop). */
  readonly maxDeliver?: number;
  /** Messages fetched ahead per replica (default 1: a long handler leaves none waiting past ack wait). */
  readonly prefetch?: number;
  /**
   * Messages handled at once per replica (default 1: in stream order). Above 1, handlers must be
   * safe to run side by side, as handlers that serialise per aggregate and fold before acting are.
   */
  readonly concurrency?: number;
  /** The first redelivery delay after a handler error; it doubles per delivery (default 1000 ms). */
  readonly retryDelayMs?: number;
  /** The cap of that delay (default 60 s). */
  readonly maxRetryDelayMs?: number;
}

export type ResolvedConsumerSettings = { -readonly [K in keyof ConsumerSettings]-?: number };

export const DEFAULT_CONSUMER_SETTINGS: ResolvedConsumerSettings = {
  ackWaitMs: 30_000,
  maxAckPending: 64,
  maxDeliver: -1,
  prefetch: 1,
  concurrency: 1,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
};

/** A service name as it appears in durable names: a lowercase DNS-label-like word. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * `<service>_<category>_<Type>` for `nimbus.evt.<category>.<Type>`; a `*` token becomes `all` and a
 * trailing `>` becomes `rest` (types are PascalCase, so neither collides with one). Durable names may not
 * hold `.`, `*` or `>`.
 */
export function durableNameFor(service: string, subject: string): string {
  if (!SERVICE_NAME.test(service)) {
    throw new Error(`service name ${JSON.stringify(service)} must match ${String(SERVICE_NAME)}`);
  }
  const prefix = `${EVENT_SUBJECT_PREFIX}.`;
  if (!subject.startsWith(prefix) || subject.length === prefix.length) {
    throw new Error(`${subject} is not an event subject (${prefix}...)`);
  }
  const tokens = subject.slice(prefix.length).split('.');
  const named = tokens.map((token, index) => {
    if (token === '*') return 'all';
    if (token === '>' && index === tokens.length - 1) return 'rest';
    if (!/^[A-Za-z0-9-]+$/.test(token)) throw new Error(`${subject} has an unusable token ${token}`);
    return token;
  });
  return [service, ...named].join('_');
}

/** The durable pull consumer for one handler's subject. */
export function consumerConfigFor(
  durableName: string,
  subject: string,
  settings: ResolvedConsumerSettings,
): Partial<ConsumerConfig> & Pick<ConsumerConfig, 'durable_name' | 'ack_policy'> {
  return {
    durable_name: durableName,
    description: `handles ${subject}`,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    // A new service sees the retained history too: handlers are idempotent, and that is what lets a
    // service deployed late catch up.
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
    max_deliver: settings.maxDeliver,
  };
}

/** The settings of a consumer whose config the server reports, that differ from the desired ones. */
export function consumerDrift(
  current: Partial<ConsumerConfig>,
  desired: Partial<ConsumerConfig>,
): readonly string[] {
  const keys = ['filter_subject', 'ack_policy', 'ack_wait', 'max_ack_pending', 'max_deliver'] as const;
  return keys.filter((key) => current[key] !== desired[key]);
}

/** The wait before redelivering a message whose handler failed on delivery number `deliveryCount`. */
export function retryDelayFor(deliveryCount: number, settings: ResolvedConsumerSettings): number {
  const exponent = Math.max(0, Math.min(deliveryCount - 1, 30));
  return Math.min(settings.maxRetryDelayMs, settings.retryDelayMs * 2 ** exponent);
}

export function resolveSettings(
  ...layers: readonly (ConsumerSettings | undefined)[]
): ResolvedConsumerSettings {
  const keys = Object.keys(DEFAULT_CONSUMER_SETTINGS) as (keyof ResolvedConsumerSettings)[];
  const settings = { ...DEFAULT_CONSUMER_SETTINGS };
  for (const layer of layers) {
    for (const key of keys) {
      const value = layer?.[key];
      if (value !== undefined) settings[key] = value;
    }
  }
  const problems = [
    ...(settings.ackWaitMs >= 1_000 ? [] : ['ackWaitMs must be at least 1000']),
    ...(settings.maxAckPending >= 1 ? [] : ['maxAckPending must be at least 1']),
    ...(settings.maxDeliver === -1 || settings.maxDeliver >= 1 ? [] : ['maxDeliver must be -1 or >= 1']),
    ...(settings.prefetch >= 1 && settings.prefetch <= settings.maxAckPending
      ? []
      : ['prefetch must be between 1 and maxAckPending']),
    ...(settings.concurrency >= 1 && settings.concurrency <= settings.maxAckPending
      ? []
      : ['concurrency must be between 1 and maxAckPending']),
    ...(settings.retryDelayMs >= 0 && settings.maxRetryDelayMs >= settings.retryDelayMs
      ? []
      : ['retryDelayMs must be >= 0 and not above maxRetryDelayMs']),
  ];
  if (problems.length > 0) throw new Error(`invalid consumer settings: ${problems.join('; ')}`);
  return settings;
}
