import { describe, expect, it } from '@jest/globals';

import { ApiError } from '../http/api-error.js';
import { projectUnderPolicy, userUnderPolicy } from './owner.js';
import type { Principal } from './principal.js';

const principal = (roles: Principal['roles']): Principal => ({
  userId: 'u-1',
  userName: 'alice',
  domainId: 'default',
  scoped: true,
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

describe('an owner refused in the words of its API', () => {
  it("throws the API's own refusal instead of the policy message", () => {
    const refusal = new ApiError(403, "You are not permitted to create images owned by 'another project'.");
    expect(() => projectUnderPolicy(principal(['member', 'reader']), 'p-2', () => refusal)).toThrow(refusal);
  });

  it("answers identity rules in Keystone's words", () => {
    expect(() => projectUnderPolicy(principal(['reader']), 'p-2', 'identity:get_project')).toThrow(
      new ApiError(403, 'You are not authorized to perform the requested action: identity:get_project.'),
    );
  });
});

describe(userUnderPolicy.name, () => {
  it('resolves users the same way', () => {
    expect(userUnderPolicy(principal(['reader']), 'u-1', 'rule')).toBe('u-1');
    expect(() => userUnderPolicy(principal(['reader']), 'u-2', 'rule')).toThrow(ApiError);
  });
});
