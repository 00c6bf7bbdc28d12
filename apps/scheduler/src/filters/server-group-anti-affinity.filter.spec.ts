import { randomUUID } from 'node:crypto';

import { candidate, spec } from '../testing/hosts.js';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity.filter.js';

describe(serverGroupAntiAffinityFilter.name, () => {
  const group = { id: randomUUID(), policy: 'anti-affinity' as const };

  it('rejects a host that already holds a member of the group', () => {
    expect(
      serverGroupAntiAffinityFilter.passes(
        candidate({ name: 'h1' }),
        spec({ serverGroup: group, groupHosts: ['h1'] }),
      ),
    ).toBe(false);
  });

  it('passes a host with no member of the group', () => {
    expect(
      serverGroupAntiAffinityFilter.passes(
        candidate({ name: 'h2' }),
        spec({ serverGroup: group, groupHosts: ['h1'] }),
      ),
    ).toBe(true);
  });
});
