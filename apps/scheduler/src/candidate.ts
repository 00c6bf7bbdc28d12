/**
 * A host as the scheduler sees it at decision time: its folded stream (inventory, allocations,
 * enabled), the revision it was folded at (claims are appended there), and whether its compute
 * agent's heartbeat is recent.
 */
import { type HostState, type Resources, freeResources } from '#libs/domain';

export interface HostCandidate {
  readonly name: string;
  readonly state: HostState;
  readonly revision: bigint | null;
  readonly alive: boolean;
}

export const free = (candidate: HostCandidate): Resources => freeResources(candidate.state);
