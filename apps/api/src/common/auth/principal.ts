/**
 * Who is asking: what a valid token proved (user, project scope, effective roles), and the three questions
 * policy asks of it. Kept free of HTTP so services can be given one directly.
 * Must never carry the token itself.
 */

export interface Principal {
  readonly userId: string;
  readonly userName: string;
  readonly domainId: string;
  /**
   * False for an unscoped token: it proves the user, has no project (its id and name are empty) and no
   * role, so only the routes open to any user (its own token, projects and password) take it.
   */
  readonly scoped: boolean;
  readonly projectId: string;
  readonly projectName: string;
  /**
   * Effective roles on the project (assigned and implied), in Keystone's order; roles an admin made
   * follow the built-in ones, and policy gives them nothing.
   */
  readonly roles: readonly string[];
  readonly auditId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly methods: readonly string[];
  /** The application credential the token was obtained with, if any (as the token document shows it). */
  readonly applicationCredential?: {
    readonly id: string;
    readonly name: string;
    /** A restricted credential's tokens may not manage application credentials. */
    readonly restricted: boolean;
  };
}

export const isAdmin = (principal: Principal): boolean => principal.roles.includes('admin');

export const isService = (principal: Principal): boolean => principal.roles.includes('service');

/** Whether the principal may change things in its project (member or admin), not only read them. */
export const canWrite = (principal: Principal): boolean =>
  principal.roles.includes('member') || principal.roles.includes('admin');

/** Whether a project-owned object is visible to the principal: its own project's, or any for admins. */
export const canSeeProject = (principal: Principal, projectId: string): boolean =>
  isAdmin(principal) || principal.projectId === projectId;
