import { candidate, spec } from '../testing/hosts.js';
import { imagePropertiesFilter } from './image-properties.filter.js';

describe(imagePropertiesFilter.name, () => {
  it('passes any host for an image that names no architecture or hypervisor', () => {
    expect(imagePropertiesFilter.passes(candidate({ name: 'h1', arch: 'aarch64' }), spec())).toBe(true);
  });

  it('rejects a host of another architecture', () => {
    const wantsX86 = spec({ image: { architecture: 'x86_64', hypervisorType: null } });
    expect(imagePropertiesFilter.passes(candidate({ name: 'h1', arch: 'aarch64' }), wantsX86)).toBe(false);
    expect(imagePropertiesFilter.passes(candidate({ name: 'h2', arch: 'x86_64' }), wantsX86)).toBe(true);
  });

  it('rejects a host of another hypervisor type', () => {
    const wantsKvm = spec({ image: { architecture: null, hypervisorType: 'kvm' } });
    expect(imagePropertiesFilter.passes(candidate({ name: 'h1', hypervisor: 'qemu' }), wantsKvm)).toBe(false);
  });
});
