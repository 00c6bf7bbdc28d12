/**
 * What an operator's enable or disable of a compute host means (Nova's `os-services` update): the events
 * it leads to, given the host as folded from its `host-<name>` stream. Repeating the host's current state
 * (enabled again, or disabled again for the same reason) changes nothing and so appends nothing.
 * Pure: no I/O, no clock; never decides for a host that is not registered (callers resolve it first).
 */
import { HostDisabled, HostEnabled, build } from '#libs/contracts';

import type { HostState } from './host.js';

/** An operator's request: put the host back into scheduling, or take it out (with an optional reason). */
export type HostAdminRequest =
  { readonly enable: true } | { readonly enable: false; readonly reason?: string | undefined };

/** An empty reason is no reason: Nova stores none for it, and so does HostDisabled. */
const reasonOf = (reason: string | null | undefined): string | undefined =>
  reason === null || reason === undefined || reason === '' ? undefined : reason;

export function decideHostAdmin(
  state: HostState,
  host: string,
  request: HostAdminRequest,
): (HostEnabled | HostDisabled)[] {
  if (request.enable) return state.enabled ? [] : [build(HostEnabled, { host })];
  const reason = reasonOf(request.reason);
  if (!state.enabled && reasonOf(state.disabledReason) === reason) return [];
  return [build(HostDisabled, { host, ...(reason === undefined ? {} : { reason }) })];
}
