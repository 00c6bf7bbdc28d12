import { randomUUID } from 'node:crypto';

import { candidate, spec } from '../testing/hosts.js';
import { serverGroupAffinityFilter } from './server-group-affinity.filter.js';

describe(serverGroupAffinityFilter.name, () => {
  const group = { id: randomUUID(), policy: 'affinity' as const };

  it('lets the first member of an affinity group go anywhere', () => {
    expect(serverGroupAffinityFilter.passes(candidate({ name: 'h1' }), spec({ serverGroup: group }))).toBe(
      true,
    );
  });

  it('keeps later members on the host of the others', () => {
    const later = spec({ serverGroup: group, groupHosts: ['h2'] });
    expect(serverGroupAffinityFilter.passes(candidate({ name: 'h1' }), later)).toBe(false);
    expect(serverGroupAffinityFilter.passes(candidate({ name: 'h2' }), later)).toBe(true);
  });

  it('ignores anti-affinity groups', () => {
    const other = spec({ serverGroup: { ...group, policy: 'anti-affinity' }, groupHosts: ['h2'] });
    expect(serverGroupAffinityFilter.passes(candidate({ name: 'h1' }), other)).toBe(true);
  });
});
