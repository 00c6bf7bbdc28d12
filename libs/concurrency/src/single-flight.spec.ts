import { SingleFlight } from './single-flight.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe(SingleFlight.name, () => {
  it('runs a task once for concurrent callers of one key and tells the joiner it shared', async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    let runs = 0;
    const task = () => {
      runs += 1;
      return gate.promise;
    };
    const first = flights.run('h1/img', task);
    const second = flights.run('h1/img', task);
    gate.resolve('copied');
    expect(await first).toEqual({ value: 'copied', shared: false });
    expect(await second).toEqual({ value: 'copied', shared: true });
    expect(runs).toBe(1);
  });

  it('keeps keys apart and runs again once a run has settled', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const task = () => Promise.resolve((runs += 1));
    await Promise.all([flights.run('a', task), flights.run('b', task)]);
    await flights.run('a', task);
    expect(runs).toBe(3);
  });

  it('hands a failure to every caller of the run and lets the next call try afresh', async () => {
    const flights = new SingleFlight<number>();
    const gate = deferred<number>();
    const first = flights.run('k', () => gate.promise);
    const second = flights.run('k', () => Promise.resolve(2));
    gate.reject(new Error('checksum mismatch'));
    await expect(first).rejects.toThrow('checksum mismatch');
    await expect(second).rejects.toThrow('checksum mismatch');
    await expect(flights.run('k', () => Promise.resolve(3))).resolves.toEqual({ value: 3, shared: false });
  });

  it('treats a task that throws synchronously like one that rejects', async () => {
    const flights = new SingleFlight<number>();
    await expect(
      flights.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });
});
