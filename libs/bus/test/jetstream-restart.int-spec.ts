/**
 * Durable consumers outlive the NATS server: after nats-server is killed with SIGKILL and started again on
 * the same port and store folder, the transport's connection comes back, its consume loops resume, and
 * events published afterwards reach the handler. (Whether the last ack before the kill survived is up to
 * nats-server's lazy fsync, so a redelivery of the earlier event is allowed: handlers are idempotent.)
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';

import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';

import { BootRequested } from '#libs/contracts';

import { type BusEvent, JetStreamTransport, OnEvent } from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually, sleep } from '../../../test/support/eventually.js';
import { CapturingLogger, bootRequested, publishStored, storedEvent } from './fixtures.js';

const handled: BusEvent<BootRequested>[] = [];

@Controller()
class BootHandler {
  @OnEvent(BootRequested)
  onBootRequested(@Payload() event: BusEvent<BootRequested>): void {
    handled.push(event);
  }
}

@Module({ controllers: [BootHandler] })
class BootModule {}

let nats: NatsProcess;
let publisher: NatsConnection;
let js: JetStreamClient;
let app: INestMicroservice;
const logger = new CapturingLogger();

beforeAll(async () => {
  nats = await startNatsProcess();
  app = await NestFactory.createMicroservice(BootModule, {
    strategy: new JetStreamTransport({ url: nats.url, service: 'compute' }),
    logger,
  });
  await app.listen();
  publisher = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  js = jetstream(publisher, { timeout: 2_000 });
}, 20_000);

afterAll(async () => {
  await app.close();
  await publisher.close();
  await nats.stop();
}, 15_000);

/** Publishes, retrying while the restarted server's JetStream is still coming up. */
async function publishWhenReady(stored: ReturnType<typeof storedEvent>): Promise<void> {
  await eventually(
    'a publish the restarted JetStream accepts',
    () =>
      publishStored(js, stored).then(
        () => true,
        () => undefined,
      ),
    15_000,
  );
}

describe('JetStreamTransport across a nats-server kill -9', () => {
  it('resumes consuming after the server is killed and restarted on the same store', async () => {
    const before = storedEvent(bootRequested(randomUUID()));
    await publishStored(js, before);
    await eventually('the event published before the kill to be handled', () =>
      handled.find((event) => event.messageId === before.metadata.eventId),
    );
    // Let the server write the ack out before it is killed (2.9 cannot fsync each write).
    await sleep(300);

    await nats.kill9();
    await nats.restart();

    const after = storedEvent(bootRequested(randomUUID()));
    await publishWhenReady(after);
    const resumed = await eventually(
      'the event published after the restart to be handled',
      () => handled.find((event) => event.messageId === after.metadata.eventId),
      15_000,
    );
    expect(resumed.data).toEqual(bootRequested(after.data.instanceId));
  }, 30_000);

  it('recreates its stream and consumer when JetStream comes back empty, and goes on consuming', async () => {
    await nats.kill9();
    rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.restart();

    // Publishing fails until the transport has recreated NIMBUS_EVENTS; then the event goes through.
    const after = storedEvent(bootRequested(randomUUID()));
    await publishWhenReady(after);
    await eventually(
      'the event published into the recreated stream to be handled',
      () => handled.find((event) => event.messageId === after.metadata.eventId),
      15_000,
    );
    const creations = logger.lines.filter((line) => /^created on nimbus\.evt\./.test(line.message));
    expect(creations).toHaveLength(2);
  }, 30_000);
});
