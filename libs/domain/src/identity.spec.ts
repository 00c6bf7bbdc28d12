import { RoleAssigned, UserCreated, build } from '#libs/contracts';

import {
  ApplicationCredentialNotFound,
  IdentityConflict,
  ProjectNotFound,
  UserNotFound,
  applicationCredentialOf,
  decideAssignRole,
  decideCreateApplicationCredential,
  decideDeleteApplicationCredential,
  decideChangePassword,
  decideCreateProject,
  decideCreateUser,
  decideDeleteProject,
  decideDeleteUser,
  decideEnsureProject,
  decideSetProjectEnabled,
  decideSetUserEnabled,
  decideRevokeToken,
  effectiveRoles,
  initialProject,
  initialTokenRevocation,
  initialUser,
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

  it('disables and enables a project once each, and deletes it so that its name can be created again', () => {
    const fields = { projectId: 'p-1', name: 'demo', domainId: 'default', description: null };
    const created = decideCreateProject(initialProject(), fields);
    expect(() => decideCreateProject(foldAll(projectReducer, created), fields)).toThrow(IdentityConflict);
    const disabled = decideSetProjectEnabled(foldAll(projectReducer, created), 'p-1', false);
    const off = foldAll(projectReducer, [...created, ...disabled]);
    expect(off.enabled).toBe(false);
    expect(decideSetProjectEnabled(off, 'p-1', false)).toEqual([]);
    expect(
      foldAll(projectReducer, [...created, ...disabled, ...decideSetProjectEnabled(off, 'p-1', true)])
        .enabled,
    ).toBe(true);
    const gone = foldAll(projectReducer, [...created, ...decideDeleteProject(off, 'p-1')]);
    expect(gone.exists).toBe(false);
    expect(() => decideDeleteProject(gone, 'p-1')).toThrow(ProjectNotFound);
    expect(() => decideSetProjectEnabled(gone, 'p-1', true)).toThrow(ProjectNotFound);
    expect(decideCreateProject(gone, fields)).toHaveLength(1);
  });

  it('disables a user once, and deletes it with its roles, so a user created again under its name starts bare', () => {
    const granted = build(RoleAssigned, { userId: 'u-1', projectId: 'p-1', role: 'member' });
    const state = foldAll(userReducer, [user, granted]);
    expect(state.enabled).toBe(true);
    const disabled = decideSetUserEnabled(state, 'u-1', false);
    expect(foldAll(userReducer, [user, granted, ...disabled]).enabled).toBe(false);
    expect(decideSetUserEnabled(state, 'u-1', true)).toEqual([]);
    const deleted = decideDeleteUser(state, 'u-1');
    const recreated = foldAll(userReducer, [user, granted, ...deleted, user]);
    expect(recreated).toMatchObject({ exists: true, enabled: true, roles: {} });
    expect(() => decideDeleteUser(foldAll(userReducer, [user, ...deleted]), 'u-1')).toThrow(UserNotFound);
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

  it('keeps application credentials by id, one name per user, and forgets them with the user', () => {
    const credential = {
      applicationCredentialId: 'ac-1',
      name: 'deployer',
      description: null,
      projectId: 'p-1',
      roles: ['member' as const],
      secretHash: hash,
      expiresAt: null,
      unrestricted: false,
    };
    const created = decideCreateApplicationCredential(foldAll(userReducer, [user]), 'u-1', credential);
    const holding = foldAll(userReducer, [user, ...created]);
    expect(applicationCredentialOf(holding, 'ac-1')).toMatchObject({ name: 'deployer', projectId: 'p-1' });
    expect(applicationCredentialOf(holding, 'constructor')).toBeUndefined();
    expect(() =>
      decideCreateApplicationCredential(holding, 'u-1', { ...credential, applicationCredentialId: 'ac-2' }),
    ).toThrow(IdentityConflict);
    expect(() => decideDeleteApplicationCredential(holding, 'u-1', 'toString')).toThrow(
      ApplicationCredentialNotFound,
    );
    const deleted = decideDeleteApplicationCredential(holding, 'u-1', 'ac-1');
    expect(deleted[0]).toMatchObject({ userId: 'u-1', applicationCredentialId: 'ac-1', projectId: 'p-1' });
    const after = foldAll(userReducer, [user, ...created, ...deleted]);
    expect(applicationCredentialOf(after, 'ac-1')).toBeUndefined();
    expect(() => decideDeleteApplicationCredential(after, 'u-1', 'ac-1')).toThrow(
      ApplicationCredentialNotFound,
    );
    const recreated = foldAll(userReducer, [user, ...created, ...decideDeleteUser(holding, 'u-1'), user]);
    expect(recreated.applicationCredentials).toEqual({});
    expect(() => decideCreateApplicationCredential(initialUser(), 'u-9', credential)).toThrow(UserNotFound);
  });

  it('revokes a token once', () => {
    const token = { auditId: 'zFz_59OsQRCVDYG-qit1Ng', userId: 'u-1', expiresAt: '2030-01-01T00:00:00.000Z' };
    const [revoked] = decideRevokeToken(initialTokenRevocation(), token);
    expect(decideRevokeToken(foldAll(tokenRevocationReducer, [revoked!]), token)).toEqual([]);
  });
});
