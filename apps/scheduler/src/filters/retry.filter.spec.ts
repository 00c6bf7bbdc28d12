import { candidate, spec } from '../testing/hosts.js';
import { retryFilter } from './retry.filter.js';

describe(retryFilter.name, () => {
  it('rejects a host this build already failed on', () => {
    expect(retryFilter.passes(candidate({ name: 'h1' }), spec({ excludedHosts: ['h1'] }))).toBe(false);
    expect(retryFilter.passes(candidate({ name: 'h2' }), spec({ excludedHosts: ['h1'] }))).toBe(true);
  });
});
