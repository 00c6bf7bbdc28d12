import { FILTERS } from './filters/index.js';
import { selectHosts } from './select-hosts.js';
import { candidate, spec } from './testing/hosts.js';
import { WEIGHERS } from './weighers/index.js';

const policy = {
  filters: FILTERS,
  weighers: WEIGHERS.map((weigher) => ({ weigher, multiplier: 1 })),
  alternates: 2,
};

describe(selectHosts.name, () => {
  it('picks the best host and keeps the next ones as alternates', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((name, index) => candidate({ name, ramMb: 1024 * (index + 1) }));
    const result = selectHosts(hosts, spec(), policy);
    expect(result).toMatchObject({ kind: 'selected', ranked: ['d', 'c', 'b'] });
  });

  it('traces every filter with the hosts it removed', () => {
    const hosts = [
      candidate({ name: 'small', ramMb: 32 }),
      candidate({ name: 'off', enabled: false }),
      candidate({ name: 'ok' }),
    ];
    const { trace } = selectHosts(hosts, spec(), policy);
    expect(trace.hostsIn).toBe(3);
    expect(trace.filters.find((step) => step.filter === 'ComputeFilter')).toEqual({
      filter: 'ComputeFilter',
      remaining: 2,
      rejectedCount: 1,
      rejected: ['off'],
    });
    expect(trace.filters.find((step) => step.filter === 'RamFilter')).toEqual({
      filter: 'RamFilter',
      remaining: 1,
      rejectedCount: 1,
      rejected: ['small'],
    });
  });

  it('names the filter that emptied the list when no host is valid', () => {
    const result = selectHosts(
      [candidate({ name: 'h1', ramMb: 32 }), candidate({ name: 'h2', ramMb: 32 })],
      spec(),
      policy,
    );
    expect(result.kind).toBe('no-valid-host');
    expect(result.kind === 'no-valid-host' && result.reason).toContain('Filter RamFilter returned 0 hosts');
  });

  it('says so when there are no hosts at all', () => {
    expect(selectHosts([], spec(), policy)).toMatchObject({
      kind: 'no-valid-host',
      reason: 'There are no compute hosts.',
    });
  });

  it('chooses the same host for the same inputs', () => {
    const hosts = ['x', 'y'].map((name) => candidate({ name }));
    expect(selectHosts(hosts, spec(), policy)).toMatchObject({ ranked: ['x', 'y'] });
  });
});
