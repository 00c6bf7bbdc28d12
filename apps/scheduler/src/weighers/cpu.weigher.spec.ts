import { FILTERS } from '../filters/index.js';
import { selectHosts } from '../select-hosts.js';
import { candidate, spec } from '../testing/hosts.js';
import { cpuWeigher } from './cpu.weigher.js';

describe(cpuWeigher.name, () => {
  const hosts = [candidate({ name: 'busy', vcpus: 8, usedVcpus: 6 }), candidate({ name: 'idle', vcpus: 8 })];
  const rank = (multiplier: number) =>
    selectHosts(hosts, spec(), {
      filters: FILTERS,
      weighers: [{ weigher: cpuWeigher, multiplier }],
      alternates: 1,
    });

  it('measures free vCPUs', () => {
    expect(cpuWeigher.raw(hosts[0]!, spec())).toBe(2);
  });

  it('spreads with a positive multiplier and stacks with a negative one', () => {
    expect(rank(1)).toMatchObject({ ranked: ['idle', 'busy'] });
    expect(rank(-1)).toMatchObject({ ranked: ['busy', 'idle'] });
  });
});
