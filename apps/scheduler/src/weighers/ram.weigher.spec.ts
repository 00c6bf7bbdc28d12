import { FILTERS } from '../filters/index.js';
import { selectHosts } from '../select-hosts.js';
import { candidate, spec } from '../testing/hosts.js';
import { ramWeigher } from './ram.weigher.js';

describe(ramWeigher.name, () => {
  const hosts = [
    candidate({ name: 'busy', ramMb: 4096, usedRamMb: 3072 }),
    candidate({ name: 'idle', ramMb: 4096 }),
  ];
  const rank = (multiplier: number) =>
    selectHosts(hosts, spec(), {
      filters: FILTERS,
      weighers: [{ weigher: ramWeigher, multiplier }],
      alternates: 1,
    });

  it('measures free RAM', () => {
    expect(ramWeigher.raw(hosts[0]!, spec())).toBe(1024);
  });

  it('spreads with a positive multiplier: the host with more free RAM first', () => {
    expect(rank(1)).toMatchObject({ kind: 'selected', ranked: ['idle', 'busy'] });
  });

  it('stacks with a negative multiplier: the fuller host first', () => {
    expect(rank(-1)).toMatchObject({ kind: 'selected', ranked: ['busy', 'idle'] });
  });
});
