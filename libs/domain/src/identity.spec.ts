import { RoleAssigned, UserCreated, build } from '#libs/contracts';

import {
  IdentityConflict,
  decideAssignRole,
  decideChangePassword,
  decideCreateUser,
  decideEnsureProject,
  decideRevokeToken,
  effectiveRoles,
  initialProject,
  initialTokenRevocation,
  projectReducer,
  tokenRevocationReducer,
  userReducer,
} from './identity.js';
import { foldAll } from './testing/given.js';

const hash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const user = build(UserCreated, {
  userId: 'u-1',
  name: 'alice',
  domainId: 'default',
  passwordHash: hash,
  defaultProjectId: null,
});

describe('identity aggregates', () => {
  it('creates a project once; ensuring it again appends nothing', () => {
    const fields = { projectId: 'p-1', name: 'demo', domainId: 'default', description: null };
    const [created] = decideEnsureProject(initialProject(), fields);
    expect(decideEnsureProject(foldAll(projectReducer, [created!]), fields)).toEqual([]);
  });

  it("refuses a second user of the same name with Keystone's conflict message", () => {
    expect(() => decideCreateUser(foldAll(userReducer, [user]), user)).toThrow(IdentityConflict);
  });

  it('changes a password only when the hash differs', () => {
    const state = foldAll(userReducer, [user]);
    expect(decideChangePassword(state, 'u-1', hash)).toEqual([]);
    expect(decideChangePassword(state, 'u-1', 'scrypt$16384$8$1$c2FsdA==$b3RoZXI=')).toHaveLength(1);
  });

  it('implies member and reader from admin, and assigns a held role only once', () => {
    const state = foldAll(userReducer, [
      user,
      build(RoleAssigned, { userId: 'u-1', projectId: 'p-1', role: 'admin' }),
    ]);
    expect(effectiveRoles(state, 'p-1')).toEqual(['member', 'reader', 'admin']);
    expect(effectiveRoles(state, 'p-2')).toEqual([]);
    expect(decideAssignRole(state, 'u-1', 'p-1', 'admin')).toEqual([]);
  });

  it('revokes a token once', () => {
    const token = { auditId: 'zFz_59OsQRCVDYG-qit1Ng', userId: 'u-1', expiresAt: '2030-01-01T00:00:00.000Z' };
    const [revoked] = decideRevokeToken(initialTokenRevocation(), token);
    expect(decideRevokeToken(foldAll(tokenRevocationReducer, [revoked!]), token)).toEqual([]);
  });
});
