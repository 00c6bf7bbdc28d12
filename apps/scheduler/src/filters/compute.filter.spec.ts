import { candidate, spec } from '../testing/hosts.js';
import { computeFilter } from './compute.filter.js';

describe(computeFilter.name, () => {
  it('passes an enabled host whose agent is alive', () => {
    expect(computeFilter.passes(candidate({ name: 'h1' }), spec())).toBe(true);
  });

  it('rejects a disabled host', () => {
    expect(computeFilter.passes(candidate({ name: 'h1', enabled: false }), spec())).toBe(false);
  });

  it('rejects a host whose agent stopped sending heartbeats', () => {
    expect(computeFilter.passes(candidate({ name: 'h1', alive: false }), spec())).toBe(false);
  });
});
