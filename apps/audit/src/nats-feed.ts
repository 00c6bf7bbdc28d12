/**
 * The audit feed over NATS, as a subscriber outside the system reaches it: ask the API for a named
 * subscription (`POST /audit/v1/subscriptions`, with the Keystone token), which answers with a durable
 * JetStream consumer and credentials that can read only that consumer, then pull from it. Each batch
 * is handed over, made durable by the caller, and only then acknowledged, so a crash between the two
 * brings the batch again (the caller drops what it already kept) and never loses one.
 * Must never log the credentials it is handed.
 */
import { jetstream, JetStreamError } from '@nats-io/jetstream';
import { type NatsConnection, connect, credsAuthenticator } from '@nats-io/transport-node';

import { type FeedEnd, FeedRefused, messageOf } from './feed-client.js';

export interface NatsSubscriptionRequest {
  readonly name: string;
  readonly since: string | null;
  readonly projectId?: string;
  readonly allProjects: boolean;
  /** false: end when the consumer has nothing more (an export); true: follow until stopped. */
  readonly follow: boolean;
}

/** What the API hands a subscriber (the parts this client uses). */
interface Grant {
  readonly nats_url: string;
  readonly stream: string;
  readonly consumer: string;
  readonly inbox_prefix: string;
  readonly credentials: string;
}

const BATCH = 256;
const PULL_EXPIRES_MS = 5_000;

/**
 * Reads the subscription until nothing is waiting (`follow: false`; what a crashed run left
 * unacknowledged comes again to a later run), the signal aborts, or the connection ends. `onBatch` receives the events of one pull and must have kept them when it returns.
 */
export async function readNatsFeed(
  apiUrl: string,
  token: string,
  request: NatsSubscriptionRequest,
  onBatch: (events: Record<string, unknown>[]) => void,
  signal?: AbortSignal,
): Promise<FeedEnd> {
  const grant = await subscription(apiUrl, token, request);
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: grant.nats_url,
      name: `audit:${grant.consumer}`,
      authenticator: credsAuthenticator(new TextEncoder().encode(grant.credentials)),
      inboxPrefix: grant.inbox_prefix,
      reconnect: false,
    });
  } catch (error) {
    return { kind: 'cut', reason: (error as Error).message };
  }
  const stop = (): void => void connection.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const consumer = await jetstream(connection).consumers.get(grant.stream, grant.consumer);
    while (!signal?.aborted && !connection.isClosed()) {
      // A pull returns when it has its count: ask for what is waiting, or (caught up) for the next one.
      const pending = (await consumer.info()).num_pending;
      if (pending === 0 && !request.follow) return { kind: 'complete' };
      const messages = await consumer.fetch({
        max_messages: pending > 0 ? Math.min(BATCH, pending) : 1,
        expires: PULL_EXPIRES_MS,
      });
      const batch = [];
      for await (const message of messages) batch.push(message);
      if (batch.length === 0) continue;
      onBatch(batch.map((message) => message.json<Record<string, unknown>>()));
      for (const message of batch) message.ack();
      await connection.flush();
    }
    return signal?.aborted ? { kind: 'complete' } : { kind: 'cut', reason: 'the NATS connection closed' };
  } catch (error) {
    if (signal?.aborted) return { kind: 'complete' };
    if (error instanceof JetStreamError || connection.isClosed())
      return { kind: 'cut', reason: (error as Error).message };
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!connection.isClosed()) await connection.close();
  }
}

async function subscription(apiUrl: string, token: string, request: NatsSubscriptionRequest): Promise<Grant> {
  const response = await fetch(`${apiUrl}/audit/v1/subscriptions`, {
    method: 'POST',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      subscription: {
        name: request.name,
        ...(request.since === null ? {} : { since: request.since }),
        ...(request.projectId === undefined ? {} : { project_id: request.projectId }),
        ...(request.allProjects ? { all_projects: true } : {}),
      },
    }),
  });
  const text = await response.text();
  if (response.status !== 200 && response.status !== 201)
    throw new FeedRefused(
      response.status,
      `/audit/v1/subscriptions answered HTTP ${response.status}: ${messageOf(text)}`,
    );
  return (JSON.parse(text) as { subscription: Grant }).subscription;
}
