/**
 * Makes each host this agent serves known to the cluster: HostRegistered once, and
 * InventoryReported whenever what the host offers (as the operator's configuration shapes it)
 * differs from what its stream last said. Written at the revision it was decided on, like
 * everything else, so an agent restarted twice registers a host once. What to append is the
 * domain's decision (host-registration.ts); this measures the host and appends.
 */
import { type CpuArchitecture, type HostHypervisorType, streamFor } from '#libs/contracts';
import { type HostState, type Inventory, decideRegistration, hostReducer } from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import type { HostInventory, HypervisorDriver } from '../hypervisor/index.js';

export interface HostPolicy {
  readonly availabilityZone: string;
  readonly vcpuAllocationRatio: number;
  readonly ramAllocationRatio: number;
  readonly diskAllocationRatio: number;
  readonly reservedVcpus: number;
  readonly reservedRamMb: number;
  readonly reservedDiskGb: number;
  /**
   * Caps on what a host reports, for hosts that share one machine (the local rig): each would
   * otherwise offer the whole machine and the scheduler would overcommit it once per host.
   */
  readonly maxVcpus: number | null;
  readonly maxRamMb: number | null;
  readonly maxDiskGb: number | null;
}

const capped = (value: number, cap: number | null): number => (cap === null ? value : Math.min(value, cap));

export function inventoryOf(measured: HostInventory, policy: HostPolicy): Inventory {
  return {
    vcpus: capped(measured.vcpus, policy.maxVcpus),
    ramMb: capped(measured.memoryMib, policy.maxRamMb),
    diskGb: capped(measured.diskGbTotal, policy.maxDiskGb),
    vcpuAllocationRatio: policy.vcpuAllocationRatio,
    ramAllocationRatio: policy.ramAllocationRatio,
    diskAllocationRatio: policy.diskAllocationRatio,
    reservedVcpus: policy.reservedVcpus,
    reservedRamMb: policy.reservedRamMb,
    reservedDiskGb: policy.reservedDiskGb,
  };
}

/** What a host is, as the agent's configuration (the host inventory file) says. */
export interface HostFacts {
  readonly name: string;
  readonly hypervisorType: HostHypervisorType;
  readonly cpuArch: CpuArchitecture;
}

export async function registerHost(
  store: EventStore,
  driver: HypervisorDriver,
  facts: HostFacts,
  policy: HostPolicy,
  context: EventContext,
): Promise<{ registered: boolean; inventoryChanged: boolean }> {
  const host = facts.name;
  const inventory = inventoryOf(await driver.inventory(host), policy);
  const registration = {
    host,
    availabilityZone: policy.availabilityZone,
    hypervisorType: facts.hypervisorType,
    cpuArch: facts.cpuArch,
  };
  let outcome = { registered: false, inventoryChanged: false };
  await store.execute<HostState>(
    streamFor('host', host),
    hostReducer,
    (state) => {
      const decision = decideRegistration(state, registration, inventory);
      outcome = { registered: decision.firstRegistration, inventoryChanged: decision.inventoryChanged };
      return decision.events;
    },
    context,
  );
  return outcome;
}
