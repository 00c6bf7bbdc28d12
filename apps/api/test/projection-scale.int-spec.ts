import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { BootRequested, DomainStarted, HostSelected, build, streamFor } from '#libs/contracts';

import { type Harness, type Member, startHarness } from './support/api-harness.js';
import { eventually } from './support/simulate.js';

const SERVERS = Number(process.env['NIMBUS_SCALE_SERVERS'] ?? 10_000);

const percentile = (samples: number[], p: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/**
 * The list projection at the scale the benchmark measures: 10,000 servers written straight to the store
 * (as many concurrent boots would), then list and show timed over HTTP. The bounds are loose (this runs
 * beside other work on a 2-core machine); the printed percentiles are the figures to watch.
 */
describe('the server projection at scale', () => {
  let harness: Harness;
  let owner: Member;
  const ids: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    owner = await harness.member('scale', 'scale-user');
    const context = {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: owner.userId, projectId: owner.projectId, kind: 'user' as const },
    };
    const started = Date.now();
    const batch: Promise<unknown>[] = [];
    for (let index = 0; index < SERVERS; index += 1) {
      const instanceId = randomUUID();
      ids.push(instanceId);
      const events: object[] = [
        build(BootRequested, {
          instanceId,
          projectId: owner.projectId,
          userId: owner.userId,
          name: `scale-${index}`,
          flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
          image: { id: randomUUID(), name: 'boot', properties: {} },
          metadata: {},
          requestedNetworks: 'none',
        }),
      ];
      if (index % 2 === 0) {
        events.push(
          build(HostSelected, {
            instanceId,
            attempt: 1,
            host: 'hv-1',
            alternates: [],
            trace: { hostsIn: 1, filters: [], weighed: [] },
          }),
          build(DomainStarted, {
            instanceId,
            host: 'hv-1',
            domainName: `nimbus-${instanceId}`,
            reason: 'boot',
          }),
        );
      }
      batch.push(harness.store.append(streamFor('instance', instanceId), events, 'no_stream', context));
      if (batch.length >= 200) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    process.stdout.write(`wrote ${SERVERS} servers in ${Date.now() - started} ms\n`);
    const caughtUp = Date.now();
    await eventually(async () => {
      const page = await harness.request('GET', `/v2.1/servers?name=^scale-${SERVERS - 1}$`, {
        token: owner.token,
      });
      return (page.body as { servers: unknown[] }).servers.length === 1;
    }, 60_000);
    process.stdout.write(`projection caught up ${Date.now() - caughtUp} ms after the last append\n`);
  }, 120_000);

  afterAll(async () => {
    await harness.stop();
  });

  it('lists and shows quickly', async () => {
    const time = async (path: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const result = await harness.request('GET', path, { token: owner.token, microversion: '2.47' });
      expect(result.status).toBe(200);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const detail: number[] = [];
    const list: number[] = [];
    const show: number[] = [];
    for (let round = 0; round < 30; round += 1) {
      detail.push(await time('/v2.1/servers/detail?limit=100'));
      list.push(await time('/v2.1/servers?limit=1000'));
    }
    for (let round = 0; round < 200; round += 1)
      show.push(await time(`/v2.1/servers/${ids[(round * 37) % ids.length]!}`));
    const summary = (name: string, samples: number[]) =>
      `${name}: p50 ${percentile(samples, 50).toFixed(1)} ms, p99 ${percentile(samples, 99).toFixed(1)} ms`;
    process.stdout.write(
      `${[summary('detail (100)', detail), summary('list (1000)', list), summary('show', show)].join('\n')}\n`,
    );
    expect(percentile(show, 50)).toBeLessThan(50);
    expect(percentile(detail, 50)).toBeLessThan(250);
    const full = await harness.request('GET', '/v2.1/servers/detail', { token: owner.token });
    expect((full.body as { servers: unknown[] }).servers).toHaveLength(1000);
  }, 60_000);
});
