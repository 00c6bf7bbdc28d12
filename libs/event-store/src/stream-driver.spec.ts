import { WrongExpectedVersionError } from '@eventstore/db-client';
import { Logger } from '@nestjs/common';

import type { Folded, Reducer, StoredEvent } from './event-store.js';
import { DRIVE_AGAIN, type DriveTurn, StreamDriver } from './stream-driver.js';

const actor = { userId: 'compute', projectId: null, kind: 'service' } as const;
const counter: Reducer<number> = { initial: () => 0, evolve: (count) => count + 1 };

/** A store whose streams are lists of event ids; `fold` counts them, as the real fold would. */
function storeOf(streams: Record<string, string[]>) {
  let folds = 0;
  return {
    get folds() {
      return folds;
    },
    fold: <S>(stream: string, reducer: Reducer<S>): Promise<Folded<S>> => {
      folds += 1;
      const events = (streams[stream] ?? []).map((eventId, index): StoredEvent => ({
        type: 'Noted',
        data: {},
        metadata: { eventId, correlationId: `req-${stream}`, causationId: null } as never,
        stream,
        revision: BigInt(index),
        position: undefined,
      }));
      const state = events.reduce((folded, event) => reducer.evolve(folded, event), reducer.initial());
      const last = events.at(-1) ?? null;
      return Promise.resolve({ state, revision: last?.revision ?? null, last });
    },
  };
}

const lostRace = () =>
  new WrongExpectedVersionError(undefined, { streamName: 's', expected: BigInt(0), current: BigInt(1) });

describe(StreamDriver.name, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('hands the step the folded stream and a context caused by its newest event', async () => {
    const driver = new StreamDriver<number, DriveTurn<number> | string>(
      storeOf({ s: ['e1', 'e2'] }),
      counter,
      {
        actor,
        idle: 'idle',
        name: 'test',
      },
    );
    const turn = await driver.drive('s', (seen) => Promise.resolve(seen));
    expect(turn).toMatchObject({
      state: 2,
      revision: BigInt(1),
      context: { correlationId: 'req-s', causationId: 'e2', actor },
    });
  });

  it('does nothing for a stream that does not exist', async () => {
    const driver = new StreamDriver(storeOf({}), counter, { actor, idle: 'idle', name: 'test' });
    await expect(driver.drive('s', () => Promise.resolve('acted'))).resolves.toBe('idle');
  });

  it('folds and decides again after a lost race or when the step asks to, then gives up idle', async () => {
    const store = storeOf({ s: ['e1'] });
    const driver = new StreamDriver(store, counter, { actor, idle: 'idle', name: 'test', attempts: 3 });
    const outcomes: (() => Promise<string | typeof DRIVE_AGAIN>)[] = [
      () => Promise.reject(lostRace()),
      () => Promise.resolve(DRIVE_AGAIN),
      () => Promise.resolve('acted'),
    ];
    await expect(driver.drive('s', () => outcomes.shift()!())).resolves.toBe('acted');
    expect(store.folds).toBe(3);
    await expect(driver.drive('s', () => Promise.reject(lostRace()))).resolves.toBe('idle');
    expect(store.folds).toBe(6);
  });

  it('lets any other error through at once', async () => {
    const store = storeOf({ s: ['e1'] });
    const driver = new StreamDriver(store, counter, { actor, idle: 'idle', name: 'test' });
    await expect(driver.drive('s', () => Promise.reject(new Error('host unreachable')))).rejects.toThrow(
      'host unreachable',
    );
    expect(store.folds).toBe(1);
  });

  it('drives one stream one trigger at a time, each after the last, and others alongside', async () => {
    const driver = new StreamDriver(storeOf({ a: ['e1'], b: ['e1'] }), counter, {
      actor,
      idle: 'idle',
      name: 'test',
    });
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const step = (name: string, wait?: Promise<void>) => async () => {
      log.push(`${name} start`);
      await wait;
      log.push(`${name} end`);
      return name;
    };
    const first = driver.drive('a', step('a1', gate));
    const second = driver.drive('a', step('a2'));
    const other = await driver.drive('b', step('b1'));
    expect([other, driver.isDriving('a'), driver.isDriving('b')]).toEqual(['b1', true, false]);
    release();
    await expect(Promise.all([first, second])).resolves.toEqual(['a1', 'a2']);
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end', 'a1 end', 'a2 start', 'a2 end']);
    expect(driver.isDriving('a')).toBe(false);
  });

  it('still drives a waiting trigger when the drive before it failed', async () => {
    const driver = new StreamDriver(storeOf({ s: ['e1'] }), counter, { actor, idle: 'idle', name: 'test' });
    const failing = driver.drive('s', () => Promise.reject(new Error('boom')));
    const waiting = driver.drive('s', () => Promise.resolve('acted'));
    await expect(failing).rejects.toThrow('boom');
    await expect(waiting).resolves.toBe('acted');
  });
});
