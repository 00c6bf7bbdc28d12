import { describe, expect, it } from '@jest/globals';

import type { KeystoneRole } from '#libs/contracts';

import { allows } from './auth.guard.js';
import type { Principal } from './principal.js';

const principal = (roles: KeystoneRole[]): Principal => ({
  userId: 'u',
  userName: 'u',
  domainId: 'default',
  scoped: true,
  projectId: 'p',
  projectName: 'p',
  roles,
  auditId: 'a',
  issuedAt: '',
  expiresAt: '',
  methods: ['password'],
});

describe(allows.name, () => {
  it.each<[string, KeystoneRole[], boolean, boolean, boolean]>([
    ['reader', ['reader'], true, false, false],
    ['member (implies reader)', ['member', 'reader'], true, true, false],
    ['admin (implies member and reader)', ['member', 'reader', 'admin'], true, true, true],
    ['service alone', ['service'], false, false, false],
  ])('lets a %s read, write and administer as the roles say', (_who, roles, read, write, administer) => {
    expect(allows(principal(roles), { rule: 'r', level: 'reader' })).toBe(read);
    expect(allows(principal(roles), { rule: 'r', level: 'member' })).toBe(write);
    expect(allows(principal(roles), { rule: 'r', level: 'admin' })).toBe(administer);
  });

  it('lets an unscoped token (no role) only into routes open to any user', () => {
    const unscoped = { ...principal([]), scoped: false, projectId: '', projectName: '' };
    expect(allows(unscoped, { rule: 'identity:get_auth_projects', level: 'user' })).toBe(true);
    expect(allows(unscoped, { rule: 'r', level: 'reader' })).toBe(false);
    expect(allows(unscoped, { rule: 'r', level: 'admin', allowService: true })).toBe(false);
  });

  it('lets a service in only where a rule says so', () => {
    expect(
      allows(principal(['service']), { rule: 'download_image', level: 'reader', allowService: true }),
    ).toBe(true);
  });
});
