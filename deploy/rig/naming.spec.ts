import {
  defaultNamePrefix,
  hostUserName,
  hostUserNames,
  MAX_HOSTS,
  RigConfigError,
  validateHostCount,
  validateNamePrefix,
  validatePort,
} from './naming.js';

describe(hostUserNames.name, () => {
  it('numbers the hosts from 1 under the prefix', () => {
    expect(hostUserNames('ci', 3)).toEqual(['nimbus-ci-h1', 'nimbus-ci-h2', 'nimbus-ci-h3']);
  });

  it('stays within the 32 characters Linux allows for a user name', () => {
    const longest = hostUserName('a'.repeat(16), MAX_HOSTS);
    expect(longest.length).toBeLessThanOrEqual(32);
  });
});

describe(validateNamePrefix.name, () => {
  it.each(['a', 'ci', 'r1a2b3c4', 'abcdefghijklmnop'])('accepts %p', (prefix) => {
    expect(validateNamePrefix(prefix)).toBe(prefix);
  });

  it.each(['', '1abc', 'Ci', 'a-b', 'a b', 'a;rm', 'a'.repeat(17), '../x', '*'])(
    'rejects %p, which could not be a safe user name or sshd pattern',
    (prefix) => {
      expect(() => validateNamePrefix(prefix)).toThrow(RigConfigError);
    },
  );
});

describe(defaultNamePrefix.name, () => {
  it('is stable for a folder and differs between folders', () => {
    expect(defaultNamePrefix('/tmp/a')).toBe(defaultNamePrefix('/tmp/a'));
    expect(defaultNamePrefix('/tmp/a')).not.toBe(defaultNamePrefix('/tmp/b'));
  });

  it('is itself a valid prefix', () => {
    expect(() => validateNamePrefix(defaultNamePrefix('/var/lib/nimbus'))).not.toThrow();
  });
});

describe(validateHostCount.name, () => {
  it.each([0, -1, 1.5, MAX_HOSTS + 1, Number.NaN])('rejects %p', (hosts) => {
    expect(() => validateHostCount(hosts)).toThrow(RigConfigError);
  });

  it.each([1, MAX_HOSTS])('accepts %p', (hosts) => {
    expect(validateHostCount(hosts)).toBe(hosts);
  });
});

describe(validatePort.name, () => {
  it('accepts 0, meaning pick a free port, and the whole port range', () => {
    expect([0, 1, 65535].map(validatePort)).toEqual([0, 1, 65535]);
  });

  it.each([-1, 65536, 22.5])('rejects %p', (port) => {
    expect(() => validatePort(port)).toThrow(RigConfigError);
  });
});
