/**
 * The relay against the embedded event store and a real nats-server: every stored domain event reaches
 * NIMBUS_EVENTS once, in store order, under its event id; a relay restarted from an older checkpoint
 * re-publishes and JetStream drops the copies; a NATS outage delays events but loses and reorders none.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';

import { EventStoreDBClient } from '@eventstore/db-client';
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';

import { EVENTS_STREAM, streamFor, subjectFor } from '#libs/contracts';
import { EventStore, MemoryCheckpointStore } from '#libs/event-store';

import {
  BUS_HEADERS,
  EventRelay,
  MSG_ID_HEADER,
  ensureEventsStream,
  fromEventMessage,
} from '../src/index.js';
import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually } from '../../../test/support/eventually.js';
import {
  bootRequested,
  disposeEventStoreClient,
  hostRegistered,
  serviceContext,
  stopRequested,
  userContext,
} from './fixtures.js';

let nats: NatsProcess;
let eventStoreServer: EventStoreProcess;
let client: EventStoreDBClient;
let store: EventStore;
let connection: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
/** Every relay a test started, stopped again in afterAll should the test fail before it stops it. */
const relays: EventRelay[] = [];

beforeAll(async () => {
  [nats, eventStoreServer] = await Promise.all([startNatsProcess(), startEventStoreProcess()]);
  client = EventStoreDBClient.connectionString(eventStoreServer.connectionString);
  store = new EventStore(client);
  connection = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  js = jetstream(connection, { timeout: 2_000 });
  jsm = await jetstreamManager(connection, { timeout: 2_000 });
  await ensureEventsStream(jsm);
}, 30_000);

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop()));
  await connection.close();
  await disposeEventStoreClient(client);
  await Promise.all([nats.stop(), eventStoreServer.stop()]);
}, 20_000);

function relay(options: { name?: string; checkpoints?: MemoryCheckpointStore } = {}): EventRelay {
  const created = new EventRelay({
    store: client,
    jetstream: js,
    name: options.name ?? `relay-${randomUUID().slice(0, 8)}`,
    publishTimeoutMs: 1_000,
    ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
  });
  relays.push(created);
  return created;
}

/** Every message in NIMBUS_EVENTS from `fromSequence`, through an ordered consumer. */
async function messagesFrom(fromSequence = 1): Promise<{ id: string; subject: string; seq: number }[]> {
  const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
  if (last < fromSequence) return [];
  const consumer = await js.consumers.get(EVENTS_STREAM, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSequence,
  });
  const wanted = last - fromSequence + 1;
  const seen: { id: string; subject: string; seq: number }[] = [];
  const batch = await consumer.fetch({ max_messages: wanted, expires: 2_000 });
  for await (const message of batch) {
    seen.push({ id: message.headers?.get(MSG_ID_HEADER) ?? '', subject: message.subject, seq: message.seq });
    if (seen.length === wanted) break;
  }
  await batch.close();
  return seen;
}

async function streamMessageCount(): Promise<number> {
  return (await jsm.streams.info(EVENTS_STREAM)).state.messages;
}

describe(EventRelay.name, () => {
  const appended: string[] = [];

  it('publishes each stored event once, in store order, with the event id as the message id', async () => {
    const first = randomUUID();
    const second = randomUUID();
    for (const [stream, event, context] of [
      [streamFor('instance', first), bootRequested(first), userContext()],
      [streamFor('host', 'hv-01'), hostRegistered('hv-01'), serviceContext()],
      [streamFor('instance', second), bootRequested(second, 'db-1'), userContext()],
    ] as const) {
      appended.push(...(await store.append(stream, [event], 'no_stream', context)).eventIds);
    }
    appended.push(
      ...(await store.append(streamFor('instance', first), [stopRequested(first)], 0n, userContext()))
        .eventIds,
    );

    const running = relay();
    await running.start();
    await eventually('the relay to publish every appended event', () =>
      running.stats().published === appended.length ? true : undefined,
    );

    const messages = await messagesFrom();
    expect(messages.map((message) => message.id)).toEqual(appended);
    expect(messages.map((message) => message.subject)).toEqual([
      subjectFor('BootRequested'),
      subjectFor('HostRegistered'),
      subjectFor('BootRequested'),
      subjectFor('StopRequested'),
    ]);

    const stored = (await jsm.streams.getMessage(EVENTS_STREAM, { seq: messages[0]!.seq }))!;
    expect(stored.header.get(BUS_HEADERS.eventType)).toBe('BootRequested');
    expect(stored.header.get(BUS_HEADERS.stream)).toBe(streamFor('instance', first));
    const decoded = fromEventMessage({ subject: stored.subject, data: stored.data, messageId: appended[0] });
    expect(decoded.stream).toBe(streamFor('instance', first));
    expect(decoded.revision).toBe(0n);
    expect(decoded.metadata.eventId).toBe(appended[0]);
    expect(stored.header.get(BUS_HEADERS.correlationId)).toBe(decoded.metadata.correlationId);
    expect(decoded.data).toEqual(bootRequested(first));
    await running.stop();
  }, 20_000);

  it('resumes from its stored checkpoint after a restart, publishing only what is new', async () => {
    const name = `relay-${randomUUID().slice(0, 8)}`;
    const before = relay({ name });
    await before.start();
    await eventually('the relay to see every event again as a duplicate', () =>
      before.stats().duplicates === appended.length ? true : undefined,
    );
    await before.stop();

    const instanceId = randomUUID();
    const [eventId] = (
      await store.append(
        streamFor('instance', instanceId),
        [bootRequested(instanceId)],
        'no_stream',
        userContext(),
      )
    ).eventIds;
    appended.push(eventId!);

    const after = relay({ name });
    await after.start();
    await eventually('the relay to publish the one new event', () =>
      after.stats().published === 1 ? true : undefined,
    );
    expect(after.stats()).toEqual({ published: 1, duplicates: 0 });
    await after.stop();
  }, 20_000);

  it('re-publishes from an older checkpoint, and JetStream drops every copy', async () => {
    const count = await streamMessageCount();
    expect(count).toBe(appended.length);

    const replaying = relay({ checkpoints: new MemoryCheckpointStore() });
    await replaying.start();
    await eventually('the replaying relay to count every event as a duplicate', () =>
      replaying.stats().duplicates === appended.length ? true : undefined,
    );

    expect(replaying.stats()).toEqual({ published: 0, duplicates: appended.length });
    expect(await streamMessageCount()).toBe(count);
    await replaying.stop();
  }, 20_000);

  it('relays only the stream categories it is given', async () => {
    const hostsOnly = new EventRelay({
      store: client,
      jetstream: js,
      name: `relay-${randomUUID().slice(0, 8)}`,
      checkpoints: new MemoryCheckpointStore(),
      categories: ['host'],
    });
    relays.push(hostsOnly);
    await hostsOnly.start();
    await eventually('the hosts-only relay to count one duplicate', () =>
      hostsOnly.stats().duplicates === 1 ? true : undefined,
    );
    await hostsOnly.stop();
    // The one HostRegistered of the first test, and none of the instance events.
    expect(hostsOnly.stats()).toEqual({ published: 0, duplicates: 1 });
  }, 20_000);

  it('delays events across a NATS outage, then publishes them in order, none lost', async () => {
    const running = relay();
    await running.start();

    await nats.kill9();
    const during: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const instanceId = randomUUID();
      during.push(
        ...(
          await store.append(
            streamFor('instance', instanceId),
            [bootRequested(instanceId)],
            'no_stream',
            userContext(),
          )
        ).eventIds,
      );
    }
    await nats.restart();

    const arrived = await eventually(
      'every event appended while nats-server was down in NIMBUS_EVENTS',
      async () => {
        const ids = (await messagesFrom().catch(() => [])).map((message) => message.id);
        return during.every((id) => ids.includes(id)) ? ids : undefined;
      },
      15_000,
    );
    expect(arrived.filter((id) => during.includes(id))).toEqual(during);
    await running.stop();
  }, 25_000);

  it('recreates NIMBUS_EVENTS when JetStream comes back empty, and relays new events into it', async () => {
    const running = relay();
    await running.start();

    await nats.kill9();
    rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.restart();
    const instanceId = randomUUID();
    const [eventId] = (
      await store.append(
        streamFor('instance', instanceId),
        [bootRequested(instanceId)],
        'no_stream',
        userContext(),
      )
    ).eventIds;

    const arrived = await eventually(
      'the new event in the recreated NIMBUS_EVENTS',
      async () => {
        const ids = (await messagesFrom().catch(() => [])).map((message) => message.id);
        return ids.includes(eventId!) ? ids : undefined;
      },
      15_000,
    );
    // This relay started from the beginning of `$all`, so the history before it is in the new stream too.
    expect(arrived.at(-1)).toBe(eventId);
    expect(new Set(arrived).size).toBe(arrived.length);
    await running.stop();
  }, 25_000);
});
