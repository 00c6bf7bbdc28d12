import { candidate, spec } from '../testing/hosts.js';
import { coreFilter } from './core.filter.js';

describe(coreFilter.name, () => {
  const wants = (vcpus: number) => spec({ resources: { vcpus, ramMb: 64, diskGb: 0 } });

  it('passes a host with enough free vCPUs', () => {
    expect(coreFilter.passes(candidate({ name: 'h1', vcpus: 4, usedVcpus: 2 }), wants(2))).toBe(true);
  });

  it('rejects a host without enough free vCPUs', () => {
    expect(coreFilter.passes(candidate({ name: 'h1', vcpus: 4, usedVcpus: 3 }), wants(2))).toBe(false);
  });
});
