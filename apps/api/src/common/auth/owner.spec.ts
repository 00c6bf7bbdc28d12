import { describe, expect, it } from '@jest/globals';

import { ApiError } from '../http/api-error.js';
import { projectUnderPolicy, userUnderPolicy } from './owner.js';
import type { Principal } from './principal.js';

const principal = (roles: Principal['roles']): Principal => ({
  userId: 'u-1',
  userName: 'alice',
  domainId: 'default',
  projectId: 'p-1',
  projectName: 'demo',
  roles,
  auditId: 'a',
  issuedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T01:00:00.000Z',
  methods: ['password'],
});

describe(projectUnderPolicy.name, () => {
  it("is the caller's own project when none or its own is named", () => {
    expect(projectUnderPolicy(principal(['member', 'reader']), undefined, 'rule')).toBe('p-1');
    expect(projectUnderPolicy(principal(['member', 'reader']), 'p-1', 'rule')).toBe('p-1');
  });

  it('is the named project for an admin', () => {
    expect(projectUnderPolicy(principal(['admin', 'member', 'reader']), 'p-2', 'rule')).toBe('p-2');
  });

  it("refuses a member naming another project with Nova's policy message", () => {
    expect(() =>
      projectUnderPolicy(principal(['member', 'reader']), 'p-2', 'os_compute_api:limits:other_project'),
    ).toThrow(new ApiError(403, "Policy doesn't allow os_compute_api:limits:other_project to be performed."));
  });
});

describe(userUnderPolicy.name, () => {
  it('resolves users the same way', () => {
    expect(userUnderPolicy(principal(['reader']), 'u-1', 'rule')).toBe('u-1');
    expect(() => userUnderPolicy(principal(['reader']), 'u-2', 'rule')).toThrow(ApiError);
  });
});
