/**
 * Heartbeats on a real nats-server: a reader that starts after an agent fell silent still knows when
 * each host was last heard (so a restarted scheduler does not judge a live host dead, nor a long-dead
 * one alive), live beats reach it as they are put, and after nats-server lost its JetStream data the
 * next beat keeps beats again.
 */
import { rmSync } from 'node:fs';

import { type NatsConnection, connect } from '@nats-io/transport-node';

import { HeartbeatBoard, HostLiveness } from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually, sleep } from '../../../test/support/eventually.js';

let nats: NatsProcess;
const connections: NatsConnection[] = [];

async function board(): Promise<HeartbeatBoard> {
  const connection = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  connections.push(connection);
  return new HeartbeatBoard(connection);
}

beforeAll(async () => {
  nats = await startNatsProcess();
});

afterAll(async () => {
  for (const connection of connections) await connection.close();
  await nats.stop();
});

describe(HeartbeatBoard.name, () => {
  it('tells a reader started later when each host was last heard, by the time NATS kept it', async () => {
    const agent = await board();
    await agent.beat(['hv-old']);
    await sleep(1_200);
    await agent.beat(['hv-new']);
    const keptAt = Date.now();

    const liveness = new HostLiveness(1_000);
    await (await board()).follow(liveness);

    expect(liveness.lastHeardAt('hv-new')).toBeGreaterThan(keptAt - 1_000);
    expect(liveness.isUp('hv-new')).toBe(true);
    expect(liveness.isUp('hv-old')).toBe(false);
    expect(liveness.isUp('hv-never')).toBe(false);
  });

  it('hears live beats as they are put', async () => {
    const liveness = new HostLiveness(10_000);
    await (await board()).follow(liveness);
    expect(liveness.isUp('hv-live')).toBe(false);
    await (await board()).beat(['hv-live']);
    await eventually('the live beat heard', () => liveness.isUp('hv-live') || undefined);
  });

  it('keeps beats again after nats-server lost its JetStream data', async () => {
    const agent = await board();
    await agent.beat(['hv-wiped']);
    await nats.kill9();
    rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.restart();

    // The first beats after the restart may find no bucket; a later one creates it again.
    await eventually(
      'a beat kept after the wipe',
      async () => {
        await agent.beat(['hv-wiped']);
        const liveness = new HostLiveness(10_000);
        await (await board()).follow(liveness);
        return liveness.isUp('hv-wiped') || undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
  }, 40_000);
});
