/**
 * BusModule in a Nest application context against a real nats-server: it connects under its name,
 * ensures NIMBUS_EVENTS, hands out the connection and JetStream handles, and closes the connection when
 * the app shuts down.
 */
import { Test } from '@nestjs/testing';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

import { EVENTS_STREAM, EVENTS_STREAM_SUBJECTS } from '#libs/contracts';

import { BusModule, JETSTREAM, JETSTREAM_MANAGER, NATS_CONNECTION } from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { CapturingLogger } from './fixtures.js';

let nats: NatsProcess;

beforeAll(async () => {
  nats = await startNatsProcess();
});

afterAll(async () => {
  await nats.stop();
});

describe(BusModule.name, () => {
  it('connects, ensures the events stream, and closes the connection on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        BusModule.forRoot({ url: nats.url, name: 'scheduler', streamLimits: { maxBytes: 64 * 1024 ** 2 } }),
      ],
    })
      .setLogger(new CapturingLogger())
      .compile();
    const app = await moduleRef.init();

    const connection = app.get<NatsConnection>(NATS_CONNECTION);
    const manager = app.get<JetStreamManager>(JETSTREAM_MANAGER);
    const stream = await manager.streams.info(EVENTS_STREAM);
    expect(stream.config.subjects).toEqual([EVENTS_STREAM_SUBJECTS]);
    expect(stream.config.max_bytes).toBe(64 * 1024 ** 2);
    expect(connection.info?.client_id).toBeDefined();

    const ack = await app.get<JetStreamClient>(JETSTREAM).publish('nimbus.evt.instance.Probe', 'x');
    expect(ack.stream).toBe(EVENTS_STREAM);

    await app.close();
    expect(connection.isClosed()).toBe(true);
  }, 15_000);

  it('brings a drifted limit back to the configured value on the next start', async () => {
    const start = async (maxBytes: number) =>
      (
        await Test.createTestingModule({
          imports: [BusModule.forRoot({ url: nats.url, name: 'api', streamLimits: { maxBytes } })],
        })
          .setLogger(new CapturingLogger())
          .compile()
      ).init();

    const first = await start(32 * 1024 ** 2);
    await first.close();
    const second = await start(48 * 1024 ** 2);
    const info = await second.get<JetStreamManager>(JETSTREAM_MANAGER).streams.info(EVENTS_STREAM);
    expect(info.config.max_bytes).toBe(48 * 1024 ** 2);
    await second.close();
  }, 15_000);
});
