import { candidate, spec } from '../testing/hosts.js';
import { ramFilter } from './ram.filter.js';

describe(ramFilter.name, () => {
  const wants = (ramMb: number) => spec({ resources: { vcpus: 1, ramMb, diskGb: 0 } });

  it('passes a host whose free RAM holds the flavor exactly', () => {
    expect(ramFilter.passes(candidate({ name: 'h1', ramMb: 1024, usedRamMb: 512 }), wants(512))).toBe(true);
  });

  it('rejects a host whose free RAM is below the flavor', () => {
    expect(ramFilter.passes(candidate({ name: 'h1', ramMb: 1024, usedRamMb: 512 }), wants(513))).toBe(false);
  });

  it('counts the allocation ratio', () => {
    expect(
      ramFilter.passes(candidate({ name: 'h1', ramMb: 1024, usedRamMb: 1024, ramRatio: 1.5 }), wants(512)),
    ).toBe(true);
  });
});
