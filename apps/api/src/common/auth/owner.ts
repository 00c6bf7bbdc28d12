/**
 * Whose things a call is about, under policy, decided once: the caller's own (its project, or its user)
 * unless it names another owner, which only admins may (Nova's 403 naming the `<...>:other_project` or
 * per-call rule otherwise). Naming oneself is the same as naming no one.
 */
import { policyForbids } from '../http/api-error.js';
import { isAdmin, type Principal } from './principal.js';

export function ownerUnderPolicy(
  principal: Principal,
  own: string,
  requested: string | undefined,
  rule: string,
): string {
  if (requested === undefined || requested === own) return own;
  if (!isAdmin(principal)) throw policyForbids(rule);
  return requested;
}

/** The project a call is about: the caller's, or (admins) the one it names. */
export const projectUnderPolicy = (
  principal: Principal,
  requested: string | undefined,
  rule: string,
): string => ownerUnderPolicy(principal, principal.projectId, requested, rule);

/** The user a call is about: the caller, or (admins) the one it names. */
export const userUnderPolicy = (principal: Principal, requested: string | undefined, rule: string): string =>
  ownerUnderPolicy(principal, principal.userId, requested, rule);
