import { randomUUID } from 'node:crypto';

import { HostDisabled, ResourcesClaimed, build } from '#libs/contracts';

import { capacity, decideClaim, decideRelease, freeResources, hostReducer } from './host.js';
import { foldAll } from './testing/given.js';
import { registered, reported } from './testing/hosts.js';

const inventory = reported;
const small = { vcpus: 1, ramMb: 64, diskGb: 1 };

describe('host aggregate', () => {
  it('computes capacity as (total - reserved) x ratio', () => {
    const state = foldAll(hostReducer, [registered, inventory]);
    expect(capacity(state.inventory!)).toEqual({ vcpus: 8, ramMb: 512, diskGb: 20 });
  });

  it('claims while the flavor fits and refuses the claim that would overcommit', () => {
    const claims = Array.from({ length: 8 }, () =>
      build(ResourcesClaimed, { host: 'h1', instanceId: randomUUID(), attempt: 1, ...small }),
    );
    const full = foldAll(hostReducer, [registered, inventory, ...claims]);
    expect(freeResources(full)).toEqual({ vcpus: 0, ramMb: 0, diskGb: 12 });
    expect(decideClaim(full, randomUUID(), 1, small)).toMatchObject({ kind: 'no-capacity' });
  });

  it('states the host a claim leads to, the same as folding its event', () => {
    const state = foldAll(hostReducer, [registered, inventory]);
    const decision = decideClaim(state, randomUUID(), 1, small);
    if (decision.kind !== 'claim') throw new Error(`expected a claim, got ${decision.kind}`);
    expect(decision.next).toEqual(foldAll(hostReducer, [registered, inventory, ...decision.events]));
    expect(freeResources(decision.next)).toEqual({ vcpus: 7, ramMb: 448, diskGb: 19 });
  });

  it('does not claim twice for the same build attempt', () => {
    const instanceId = randomUUID();
    const state = foldAll(hostReducer, [
      registered,
      inventory,
      build(ResourcesClaimed, { host: 'h1', instanceId, attempt: 1, ...small }),
    ]);
    expect(decideClaim(state, instanceId, 1, small)).toEqual({ kind: 'already-held' });
  });

  it('refuses claims on a disabled host', () => {
    const state = foldAll(hostReducer, [
      registered,
      inventory,
      build(HostDisabled, { host: 'h1', reason: 'maintenance' }),
    ]);
    expect(decideClaim(state, randomUUID(), 1, small)).toMatchObject({ kind: 'no-capacity' });
  });

  it('releases a claim once and then has nothing to release', () => {
    const instanceId = randomUUID();
    const held = foldAll(hostReducer, [
      registered,
      inventory,
      build(ResourcesClaimed, { host: 'h1', instanceId, attempt: 1, ...small }),
    ]);
    const [release] = decideRelease(held, instanceId, 'deleted');
    expect(release).toBeDefined();
    const released = foldAll(hostReducer, [
      registered,
      inventory,
      build(ResourcesClaimed, { host: 'h1', instanceId, attempt: 1, ...small }),
      release!,
    ]);
    expect(decideRelease(released, instanceId, 'deleted')).toEqual([]);
    expect(freeResources(released)).toEqual(capacity(released.inventory!));
  });
});
