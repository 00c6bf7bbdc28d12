import { candidate, spec } from '../testing/hosts.js';
import { forcedHostFilter } from './forced-host.filter.js';

describe(forcedHostFilter.name, () => {
  it('passes every host when none is forced', () => {
    expect(forcedHostFilter.passes(candidate({ name: 'h1' }), spec())).toBe(true);
  });

  it('passes only the forced host', () => {
    expect(forcedHostFilter.passes(candidate({ name: 'h1' }), spec({ forcedHost: 'h2' }))).toBe(false);
    expect(forcedHostFilter.passes(candidate({ name: 'h2' }), spec({ forcedHost: 'h2' }))).toBe(true);
  });
});
