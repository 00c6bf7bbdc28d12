import { freeResources } from '#libs/domain';

import { hostState } from '../testing/hosts.js';
import { ClaimsInFlight } from './claims-in-flight.js';

const host = hostState({ name: 'h1', vcpus: 4, ramMb: 1024, diskGb: 10 });
const nano = { attempt: 1, vcpus: 1, ramMb: 64, diskGb: 1 };

/** A promise and the functions that settle it, to hold an append open. */
function gate(): { promise: Promise<void>; open: () => void; fail: (error: Error) => void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe('ClaimsInFlight', () => {
  it('counts a claim as taken while its append is on its way, and not once it settles', async () => {
    const claims = new ClaimsInFlight();
    const held = gate();
    const claiming = claims.claim('h1', 'i-1', nano, () => held.promise);

    expect(freeResources(claims.overlay(host))).toEqual({ vcpus: 3, ramMb: 960, diskGb: 9 });
    expect(freeResources(claims.overlay({ ...host, name: 'h2' }))).toEqual(freeResources(host));

    held.open();
    await claiming;
    expect(claims.size).toBe(0);
    expect(claims.overlay(host)).toBe(host);
  });

  it('appends the claims on one host one after another, and on different hosts at once', async () => {
    const claims = new ClaimsInFlight();
    const order: string[] = [];
    const first = gate();
    const one = claims.claim('h1', 'i-1', nano, async () => {
      order.push('i-1 start');
      await first.promise;
      order.push('i-1 end');
    });
    const two = claims.claim('h1', 'i-2', nano, async () => {
      order.push('i-2 start');
    });
    const elsewhere = claims.claim('h2', 'i-3', nano, async () => {
      order.push('i-3 start');
    });
    await elsewhere;
    expect(order).toEqual(['i-1 start', 'i-3 start']);
    expect(freeResources(claims.overlay(host)).ramMb).toBe(1024 - 2 * 64);

    first.open();
    await Promise.all([one, two]);
    expect(order).toEqual(['i-1 start', 'i-3 start', 'i-1 end', 'i-2 start']);
  });

  it('lets the next claim on a host go ahead when an append fails, and stops counting the failed one', async () => {
    const claims = new ClaimsInFlight();
    const first = gate();
    const one = claims.claim('h1', 'i-1', nano, () => first.promise);
    const two = claims.claim('h1', 'i-2', nano, async () => 'appended');

    first.fail(new Error('store unavailable'));
    await expect(one).rejects.toThrow('store unavailable');
    await expect(two).resolves.toBe('appended');
    expect(claims.size).toBe(0);
  });
});
