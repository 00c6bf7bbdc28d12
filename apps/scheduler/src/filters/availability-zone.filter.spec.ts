import { candidate, spec } from '../testing/hosts.js';
import { availabilityZoneFilter } from './availability-zone.filter.js';

describe(availabilityZoneFilter.name, () => {
  it('passes any host when no zone is asked for', () => {
    expect(availabilityZoneFilter.passes(candidate({ name: 'h1', zone: 'az-2' }), spec())).toBe(true);
  });

  it('passes only hosts in the requested zone', () => {
    expect(
      availabilityZoneFilter.passes(
        candidate({ name: 'h1', zone: 'az-2' }),
        spec({ availabilityZone: 'az-2' }),
      ),
    ).toBe(true);
    expect(
      availabilityZoneFilter.passes(
        candidate({ name: 'h1', zone: 'nova' }),
        spec({ availabilityZone: 'az-2' }),
      ),
    ).toBe(false);
  });
});
