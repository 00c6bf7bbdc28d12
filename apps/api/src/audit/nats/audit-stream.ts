/**
 * The audit feed's JetStream side: the NIMBUS_AUDIT stream, its subjects (one feed per subject:
 * `nimbus.audit.all` for admins, `nimbus.audit.project.<id>` per project), and the few operations the
 * relay and the subscription service need, behind the AuditStream port so the API can run without NATS.
 * Must never delete or purge the stream: subscribers' consumers and positions live in it.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, headers, nanos } from '@nats-io/transport-node';

import { type FeedPosition, comparePositions, formatPosition, parsePosition } from '#libs/audit';
import { connectBus } from '#libs/bus';

export const AUDIT_STREAM = 'NIMBUS_AUDIT';
export const ADMIN_SUBJECT = 'nimbus.audit.all';
const PROJECT_SUBJECT_PREFIX = 'nimbus.audit.project.';

/** Project ids become one subject token: anything else (a dot, a wildcard, a space) has no project feed. */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function projectSubject(project: string): string | null {
  return SUBJECT_TOKEN.test(project) ? `${PROJECT_SUBJECT_PREFIX}${project}` : null;
}

/** Headers every audit message carries, so a reader need not parse the body to place it. */
export const AUDIT_HEADERS = { position: 'Nimbus-Position', time: 'Nimbus-Time' } as const;

/** The last message of a subject: its stream sequence and the store position of its event. */
export interface SubjectTail {
  readonly sequence: number;
  readonly position: FeedPosition;
}

export interface AuditMessage {
  readonly subject: string;
  readonly body: string;
  readonly position: FeedPosition;
  readonly time: string;
  /** De-duplicates a repeat within JetStream's window: `<event id>:<feed>`. */
  readonly messageId: string;
  /** The subject's last sequence this publish follows (0: none); JetStream refuses it otherwise. */
  readonly expectedLastSequence: number;
}

export interface DurableSubscription {
  readonly consumer: string;
  readonly filterSubject: string;
  /** Where a new consumer starts: the stream's first message, or a stream sequence. */
  readonly startSequence: number | null;
  /** An existing consumer is made again at startSequence, so delivery restarts there, in order. */
  readonly restart: boolean;
}

/** What the relay and the subscriptions ask of the audit stream. */
export interface AuditStream {
  tailOf(subject: string): Promise<SubjectTail | null>;
  /** Publishes; resolves with the stream sequence. Throws WrongLastSequence when another wrote first. */
  publish(message: AuditMessage): Promise<number>;
  /** The first stream sequence whose event comes after `after`, or happened at or after `time`. */
  firstSequence(point: { after: FeedPosition } | { time: Date }): Promise<number>;
  /**
   * Creates the durable consumer, or returns the existing one's filter when it has one already (and,
   * with `restart`, makes it again at the start asked for, if its filter is the one asked for).
   */
  ensureConsumer(subscription: DurableSubscription): Promise<{ created: boolean; filterSubject: string }>;
  deleteConsumer(consumer: string): Promise<boolean>;
  close(): Promise<void>;
}

export const AUDIT_STREAM_PORT = Symbol('AuditStream');

export class WrongLastSequence extends Error {}

export function auditStreamConfig(replicas = 1): Partial<StreamConfig> & Pick<StreamConfig, 'name'> {
  return {
    name: AUDIT_STREAM,
    subjects: ['nimbus.audit.>'],
    description: 'The audit feed: every domain event as a CloudEvent, per project and for admins',
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(2 * 60_000),
    // The store keeps everything; so does its audit feed. It can be rebuilt from the store.
    max_age: 0,
    max_bytes: -1,
    max_msgs: -1,
    max_msgs_per_subject: -1,
  };
}

/** How long a subscriber has to acknowledge an event before the server sends it again. */
export const AUDIT_ACK_WAIT_MS = 30_000;

export class NatsAuditStream implements AuditStream {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly manager: JetStreamManager,
    private readonly client: JetStreamClient,
    private readonly ackWaitMs: number,
  ) {}

  static async connect(
    url: string,
    credsFile: string | undefined,
    ackWaitMs = AUDIT_ACK_WAIT_MS,
    replicas = 1,
  ): Promise<NatsAuditStream> {
    const connection = await connectBus({ url, credsFile, name: 'api:audit' });
    const manager = await jetstreamManager(connection, { timeout: 5_000 });
    try {
      await manager.streams.info(AUDIT_STREAM);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await manager.streams.add(auditStreamConfig(replicas));
    }
    return new NatsAuditStream(connection, manager, jetstream(connection, { timeout: 5_000 }), ackWaitMs);
  }

  async tailOf(subject: string): Promise<SubjectTail | null> {
    const message = await this.manager.streams.getMessage(AUDIT_STREAM, { last_by_subj: subject });
    if (message === null) return null;
    return { sequence: message.seq, position: positionHeader(message.header.get(AUDIT_HEADERS.position)) };
  }

  async publish(message: AuditMessage): Promise<number> {
    const head = headers();
    head.set(AUDIT_HEADERS.position, formatPosition(message.position));
    head.set(AUDIT_HEADERS.time, message.time);
    try {
      const ack = await this.client.publish(message.subject, message.body, {
        msgID: message.messageId,
        headers: head,
        expect: { lastSubjectSequence: message.expectedLastSequence },
      });
      return ack.seq;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence)
        throw new WrongLastSequence(error.message);
      throw error;
    }
  }

  async firstSequence(point: { after: FeedPosition } | { time: Date }): Promise<number> {
    const info = await this.manager.streams.info(AUDIT_STREAM);
    let low = info.state.first_seq;
    let high = info.state.last_seq + 1;
    // Messages are in store order, so their positions (and, nearly, their times) only grow.
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const message = await this.manager.streams.getMessage(AUDIT_STREAM, { seq: middle });
      const before =
        message === null
          ? true
          : 'after' in point
            ? comparePositions(positionHeader(message.header.get(AUDIT_HEADERS.position)), point.after) <= 0
            : new Date(message.header.get(AUDIT_HEADERS.time)) < point.time;
      if (before) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  async ensureConsumer(
    subscription: DurableSubscription,
  ): Promise<{ created: boolean; filterSubject: string }> {
    let existing = false;
    try {
      const info = await this.manager.consumers.info(AUDIT_STREAM, subscription.consumer);
      const filterSubject = info.config.filter_subject ?? '';
      if (!subscription.restart || filterSubject !== subscription.filterSubject)
        return { created: false, filterSubject };
      // JetStream cannot move a consumer's delivery point: it is made again where it is asked to start.
      await this.manager.consumers.delete(AUDIT_STREAM, subscription.consumer);
      existing = true;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.manager.consumers.add(AUDIT_STREAM, {
      durable_name: subscription.consumer,
      filter_subject: subscription.filterSubject,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.ackWaitMs),
      max_ack_pending: 1_000,
      ...(subscription.startSequence === null
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: subscription.startSequence }),
    });
    return { created: !existing, filterSubject: subscription.filterSubject };
  }

  async deleteConsumer(consumer: string): Promise<boolean> {
    try {
      return await this.manager.consumers.delete(AUDIT_STREAM, consumer);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.close();
  }
}

function positionHeader(text: string): FeedPosition {
  const position = parsePosition(text);
  if (position === null) throw new Error(`an audit message carries no valid ${AUDIT_HEADERS.position}`);
  return position;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
