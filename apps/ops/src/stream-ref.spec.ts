import { UsageError } from './cli.js';
import { instanceStreamOf, streamOf, streamPointOf } from './stream-ref.js';

const ID = '6f0e1d6c-5b7a-4c1e-9d53-2a9d0f4b8e11';

describe(streamOf.name, () => {
  it('takes a server by its bare id as its instance stream', () => {
    expect(streamOf(ID)).toBe(`instance-${ID}`);
  });

  it('takes a stream by its name', () => {
    expect(streamOf('host-h1')).toBe('host-h1');
  });

  it('refuses what is neither, saying what it expected', () => {
    expect(() => streamOf('web-1')).toThrow(UsageError);
    expect(() => streamOf('web-1')).toThrow('neither a server id');
    expect(() => streamOf(ID.toUpperCase())).toThrow(UsageError);
  });
});

describe(instanceStreamOf.name, () => {
  it('refuses a stream that is not a server', () => {
    expect(() => instanceStreamOf('host-h1')).toThrow('is not a server');
  });
});

describe(streamPointOf.name, () => {
  it('reads a number as a revision and a date as a time', () => {
    expect(streamPointOf('12', '<from>')).toEqual({ revision: 12n });
    expect(streamPointOf('2026-11-22T10:00:00Z', '<from>')).toEqual({ at: new Date('2026-11-22T10:00:00Z') });
  });

  it('refuses anything else, naming the argument', () => {
    expect(() => streamPointOf('yesterday', '<to>')).toThrow(
      '<to> must be a revision number or an ISO 8601 time',
    );
    expect(() => streamPointOf('-1', '<to>')).toThrow(UsageError);
  });
});
