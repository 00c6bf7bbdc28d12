/**
 * Whose things a call is about, under policy, decided once: the caller's own (its project, or its user)
 * unless it names another owner, which only admins may (a 403 otherwise: the policy message naming the
 * rule, or the API's own refusal where it words one, as Glance does). Naming oneself is naming no one.
 */
import { type ApiError, policyForbids } from '../http/api-error.js';

/** A policy rule (refused with its policy message) or the refusal itself. */
export type Refusal = string | (() => ApiError);
import { isAdmin, type Principal } from './principal.js';

export function ownerUnderPolicy(
  principal: Principal,
  own: string,
  requested: string | undefined,
  refusal: Refusal,
): string {
  if (requested === undefined || requested === own) return own;
  if (!isAdmin(principal)) throw typeof refusal === 'string' ? policyForbids(refusal) : refusal();
  return requested;
}

/** The project a call is about: the caller's, or (admins) the one it names. */
export const projectUnderPolicy = (
  principal: Principal,
  requested: string | undefined,
  refusal: Refusal,
): string => ownerUnderPolicy(principal, principal.projectId, requested, refusal);

/** The user a call is about: the caller, or (admins) the one it names. */
export const userUnderPolicy = (principal: Principal, requested: string | undefined, rule: string): string =>
  ownerUnderPolicy(principal, principal.userId, requested, rule);
