/**
 * A host as the scheduler sees it at decision time: its folded stream (inventory, allocations,
 * enabled), the revision it was folded at (claims are appended there), whether its compute agent's
 * heartbeat is recent, and what it has free, computed once per decision since every resource
 * filter and weigher asks.
 */
import { type HostState, type Resources, freeResources } from '#libs/domain';

export interface HostCandidate {
  readonly name: string;
  readonly state: HostState;
  readonly revision: bigint | null;
  readonly alive: boolean;
  readonly free: Resources;
}

export function candidateOf(state: HostState, revision: bigint | null, alive: boolean): HostCandidate {
  return { name: state.name, state, revision, alive, free: freeResources(state) };
}

export const free = (candidate: HostCandidate): Resources => candidate.free;
