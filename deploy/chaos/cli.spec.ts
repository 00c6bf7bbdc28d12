import { UsageError, parseChaosArgs } from './cli.js';

describe(parseChaosArgs.name, () => {
  it('reads the seed and the rounds, with three hosts and two minutes to settle by default', () => {
    expect(parseChaosArgs(['--seed', '1', '--rounds', '30'])).toEqual({
      seed: 1,
      rounds: 30,
      hosts: 3,
      settleSeconds: 120,
    });
  });

  it('takes the hosts and the settle time when given', () => {
    expect(
      parseChaosArgs(['--seed', '7', '--rounds', '3', '--hosts', '1', '--settle-seconds', '60']),
    ).toEqual({
      seed: 7,
      rounds: 3,
      hosts: 1,
      settleSeconds: 60,
    });
  });

  it.each([
    [['--rounds', '3'], '--seed is required'],
    [['--seed', '1'], '--rounds is required'],
    [['--seed', 'x', '--rounds', '3'], "--seed must be a whole number from 0 to 4294967295, not 'x'"],
    [['--seed=-1', '--rounds', '3'], "--seed must be a whole number from 0 to 4294967295, not '-1'"],
    [['--seed', '1', '--rounds', '0'], "--rounds must be a whole number from 1 to 1000, not '0'"],
    [['--seed', '1', '--rounds', '2.5'], "--rounds must be a whole number from 1 to 1000, not '2.5'"],
    [
      ['--seed', '1', '--rounds', '3', '--hosts', '17'],
      "--hosts must be a whole number from 1 to 16, not '17'",
    ],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseChaosArgs(args)).toThrow(new UsageError(message));
  });

  it('refuses options it does not know', () => {
    expect(() => parseChaosArgs(['--seed', '1', '--rounds', '3', '--turbo'])).toThrow(UsageError);
  });
});
