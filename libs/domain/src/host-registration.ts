/**
 * Host registration, as the compute agent decides it on the host's folded stream: HostRegistered
 * when the host is new or its zone, hypervisor or architecture changed, InventoryReported when what
 * it offers differs from what its stream last said, and nothing at all when both are as stored, so
 * an agent restarted twice registers a host once. Never measures the host itself.
 */
import { HostRegistered, InventoryReported, type Plain, build } from '#libs/contracts';

import type { HostState, Inventory } from './host.js';

/** What a host is, as its agent's configuration says. */
export type HostRegistration = Plain<HostRegistered>;

export interface RegistrationDecision {
  readonly events: readonly (HostRegistered | InventoryReported)[];
  /** The host was not registered before. */
  readonly firstRegistration: boolean;
  readonly inventoryChanged: boolean;
}

export const sameInventory = (a: Inventory | null, b: Inventory): boolean =>
  a !== null && (Object.keys(b) as (keyof Inventory)[]).every((key) => a[key] === b[key]);

export function decideRegistration(
  state: HostState,
  registration: HostRegistration,
  inventory: Inventory,
): RegistrationDecision {
  const described =
    state.registered &&
    state.availabilityZone === registration.availabilityZone &&
    state.hypervisorType === registration.hypervisorType &&
    state.cpuArch === registration.cpuArch;
  const inventoryChanged = !sameInventory(state.inventory, inventory);
  return {
    events: [
      ...(described ? [] : [build(HostRegistered, registration)]),
      ...(inventoryChanged ? [build(InventoryReported, { host: registration.host, ...inventory })] : []),
    ],
    firstRegistration: !state.registered,
    inventoryChanged,
  };
}
