import { sleep } from '../../../test/support/eventually.js';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => sleep(5);

describe(KeyedMutex.name, () => {
  it('runs tasks of one key one at a time, in call order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      mutex.run('d', task('a')),
      mutex.run('d', task('b')),
      mutex.run('d', task('c')),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('lets different keys run at the same time', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([mutex.run('x', task('x')), mutex.run('y', task('y'))]);
    expect(log.slice(0, 2).sort()).toEqual(['x start', 'y start']);
  });

  it('releases the key when a task throws, so the next one runs', async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run('d', () => Promise.reject(new Error('boom')));
    const next = mutex.run('d', () => Promise.resolve('ran'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
