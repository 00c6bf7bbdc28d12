/**
 * JetStreamTransport in a real Nest microservice against a real nats-server: handlers get the typed,
 * validated event; a handler error means redelivery and an ack only after success; an invalid message is
 * terminated, logged loudly with where it sits, and never reaches a handler.
 */
import { randomUUID } from 'node:crypto';

import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect, headers } from '@nats-io/transport-node';

import { BootRequested, EVENTS_STREAM, HostRegistered, streamFor, subjectFor } from '#libs/contracts';

import {
  type BusEvent,
  JetStreamTransport,
  MSG_ID_HEADER,
  OnEvent,
  durableNameFor,
  encodeEventMessageBody,
  toEventMessage,
} from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually } from '../../../test/support/eventually.js';
import {
  CapturingLogger,
  bootRequested,
  hostRegistered,
  publishStored,
  serviceContext,
  storedEvent,
} from './fixtures.js';

/** What the handlers saw, and which instance ids should fail on their first delivery. */
const seen = {
  boots: [] as BusEvent<BootRequested>[],
  hosts: [] as BusEvent<HostRegistered>[],
  failFirst: new Set<string>(),
};

@Controller()
class InstanceHandlers {
  @OnEvent(BootRequested)
  onBootRequested(@Payload() event: BusEvent<BootRequested>): Promise<void> {
    seen.boots.push(event);
    if (seen.failFirst.has(event.data.instanceId) && event.deliveryCount === 1) {
      return Promise.reject(new Error('the scheduler could not reach the store this time'));
    }
    return Promise.resolve();
  }
}

@Controller()
class HostHandlers {
  @OnEvent(HostRegistered)
  onHostRegistered(@Payload() event: BusEvent<HostRegistered>): void {
    seen.hosts.push(event);
  }
}

@Module({ controllers: [InstanceHandlers, HostHandlers] })
class HandlersModule {}

let nats: NatsProcess;
let connection: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let app: INestMicroservice;
let transport: JetStreamTransport;
const logger = new CapturingLogger();

beforeAll(async () => {
  nats = await startNatsProcess();
  transport = new JetStreamTransport({
    url: nats.url,
    service: 'scheduler',
    consumer: { retryDelayMs: 100, ackWaitMs: 5_000 },
  });
  app = await NestFactory.createMicroservice(HandlersModule, { strategy: transport, logger });
  await app.listen();
  connection = await connect({ servers: nats.url });
  js = jetstream(connection);
  jsm = await jetstreamManager(connection);
}, 20_000);

afterAll(async () => {
  await app.close();
  await connection.close();
  await nats.stop();
});

async function consumerState(subject: string): Promise<{ ackPending: number; pending: number }> {
  const info = await jsm.consumers.info(EVENTS_STREAM, durableNameFor('scheduler', subject));
  return { ackPending: info.num_ack_pending, pending: info.num_pending };
}

const settled = async (subject: string): Promise<true | undefined> => {
  const state = await consumerState(subject);
  return state.ackPending === 0 && state.pending === 0 ? true : undefined;
};

describe(JetStreamTransport.name, () => {
  it('binds one durable consumer per handler, named after the service and the event', () => {
    expect([...transport.consumerNames()].sort()).toEqual([
      'scheduler_host_HostRegistered',
      'scheduler_instance_BootRequested',
    ]);
  });

  it('hands each handler the typed, validated event with its place in the store, then acks it', async () => {
    const instanceId = randomUUID();
    const stored = storedEvent(bootRequested(instanceId), undefined, 3n);
    const host = storedEvent(hostRegistered('hv-07'), serviceContext());
    await publishStored(js, stored);
    await publishStored(js, host);

    const event = await eventually('the BootRequested to be handled', () =>
      seen.boots.find((boot) => boot.data.instanceId === instanceId),
    );
    expect(event.data).toBeInstanceOf(BootRequested);
    expect(event.data).toEqual(bootRequested(instanceId));
    expect(event).toMatchObject({
      type: 'BootRequested',
      subject: subjectFor(BootRequested),
      stream: streamFor('instance', instanceId),
      revision: 3n,
      position: stored.position,
      messageId: stored.metadata.eventId,
      deliveryCount: 1,
      consumer: 'scheduler_instance_BootRequested',
    });
    expect(event.metadata).toEqual(stored.metadata);
    expect(event.streamSequence).toBeGreaterThan(0);

    const hostEvent = await eventually('the HostRegistered of hv-07 to be handled', () =>
      seen.hosts.find((seenHost) => seenHost.data.host === 'hv-07'),
    );
    expect(hostEvent.data).toBeInstanceOf(HostRegistered);
    await eventually('every BootRequested acknowledged', () => settled(subjectFor(BootRequested)));
    await eventually('every HostRegistered acknowledged', () => settled(subjectFor(HostRegistered)));
  }, 15_000);

  it('redelivers a message whose handler threw, and acks it once the handler succeeds', async () => {
    const instanceId = randomUUID();
    seen.failFirst.add(instanceId);
    await publishStored(js, storedEvent(bootRequested(instanceId)));

    const deliveries = await eventually('a second delivery of the message whose handler threw', () => {
      const mine = seen.boots.filter((boot) => boot.data.instanceId === instanceId);
      return mine.length >= 2 ? mine : undefined;
    });
    expect(deliveries.map((delivery) => delivery.deliveryCount)).toEqual([1, 2]);
    await eventually('every BootRequested acknowledged', () => settled(subjectFor(BootRequested)));
    // Settled and not delivered a third time: the second delivery was acknowledged.
    expect(seen.boots.filter((boot) => boot.data.instanceId === instanceId)).toHaveLength(2);
    expect(logger.said('warn', /handler failed on delivery 1 of BootRequested/)).toBe(true);
  }, 15_000);

  it('terminates an invalid message, logs where it sits, and never calls the handler', async () => {
    const before = seen.boots.length;
    const valid = storedEvent(bootRequested());
    // Well-formed JSON with a payload that breaks the contract: a number sent as a string.
    const body = toEventMessage(valid).body;
    const broken = {
      ...body,
      data: { ...body.data, flavor: { id: '2', name: 'm1.small', vcpus: 1, ramMb: '2048', diskGb: 20 } },
    };
    const messageHeaders = headers();
    messageHeaders.set(MSG_ID_HEADER, valid.metadata.eventId);
    const ack = await js.publish(subjectFor(BootRequested), encodeEventMessageBody(broken), {
      msgID: valid.metadata.eventId,
      headers: messageHeaders,
    });
    await js.publish(subjectFor(BootRequested), 'not json at all', { msgID: randomUUID() });

    await eventually('every BootRequested acknowledged', () => settled(subjectFor(BootRequested)));
    expect(seen.boots.length).toBe(before);
    expect(
      logger.said(
        'error',
        new RegExp(`TERMINATED ${EVENTS_STREAM}#${ack.seq} \\(nimbus\\.evt\\.instance\\.BootRequested\\)`),
      ),
    ).toBe(true);
    expect(logger.said('error', /flavor\.ramMb/)).toBe(true);
    expect(logger.said('error', /the body is not UTF-8 JSON/)).toBe(true);

    // The consumer goes on: the next valid event is handled.
    const next = storedEvent(bootRequested());
    await publishStored(js, next);
    await eventually('the next BootRequested to be handled', () =>
      seen.boots.find((boot) => boot.messageId === next.metadata.eventId),
    );
  }, 15_000);
});
