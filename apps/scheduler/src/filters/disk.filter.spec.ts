import { candidate, spec } from '../testing/hosts.js';
import { diskFilter } from './disk.filter.js';

describe(diskFilter.name, () => {
  it('passes a host with room for the root disk', () => {
    expect(
      diskFilter.passes(
        candidate({ name: 'h1', diskGb: 10 }),
        spec({ resources: { vcpus: 1, ramMb: 64, diskGb: 10 } }),
      ),
    ).toBe(true);
  });

  it('rejects a host without room for the root disk', () => {
    expect(
      diskFilter.passes(
        candidate({ name: 'h1', diskGb: 10 }),
        spec({ resources: { vcpus: 1, ramMb: 64, diskGb: 11 } }),
      ),
    ).toBe(false);
  });
});
