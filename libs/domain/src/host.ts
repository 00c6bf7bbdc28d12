/**
 * The host aggregate: a hypervisor host as the fold of its `host-<name>` stream (registration,
 * inventory, enabled or not) and the resources claimed on it. Claims are decided here and appended
 * with the revision they were decided on, so two schedulers can never both take the last slot.
 * Pure: no I/O, no clock.
 */
import {
  type CpuArchitecture,
  type DecodedEvent,
  type HostEvent,
  type HostHypervisorType,
  ResourcesClaimed,
  ResourcesReleased,
  type ResourceReleaseReason,
  build,
  isKnownEvent,
} from '#libs/contracts';

export interface Resources {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
}

export interface Inventory extends Resources {
  readonly vcpuAllocationRatio: number;
  readonly ramAllocationRatio: number;
  readonly diskAllocationRatio: number;
  readonly reservedVcpus: number;
  readonly reservedRamMb: number;
  readonly reservedDiskGb: number;
}

export interface Allocation extends Resources {
  readonly attempt: number;
}

export interface HostState {
  readonly name: string;
  readonly registered: boolean;
  readonly availabilityZone: string;
  readonly hypervisorType: HostHypervisorType | null;
  readonly cpuArch: CpuArchitecture | null;
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly inventory: Inventory | null;
  /** instance id → what it holds on this host. */
  readonly allocations: Readonly<Record<string, Allocation>>;
}

export const initialHost = (): HostState => ({
  name: '',
  registered: false,
  availabilityZone: 'nova',
  hypervisorType: null,
  cpuArch: null,
  enabled: true,
  disabledReason: null,
  inventory: null,
  allocations: {},
});

export function evolveHost(state: HostState, event: DecodedEvent): HostState {
  if (!isKnownEvent(event)) return state;
  const hostEvent = event as HostEvent;
  switch (hostEvent.type) {
    case 'HostRegistered':
      return {
        ...state,
        name: hostEvent.data.host,
        registered: true,
        availabilityZone: hostEvent.data.availabilityZone,
        hypervisorType: hostEvent.data.hypervisorType,
        cpuArch: hostEvent.data.cpuArch,
      };
    case 'InventoryReported': {
      const { host: _host, ...inventory } = hostEvent.data;
      return { ...state, inventory };
    }
    case 'ResourcesClaimed':
      return withClaim(state, hostEvent.data);
    case 'ResourcesReleased': {
      const { [hostEvent.data.instanceId]: _released, ...rest } = state.allocations;
      return { ...state, allocations: rest };
    }
    case 'HostEnabled':
      return { ...state, enabled: true, disabledReason: null };
    case 'HostDisabled':
      return { ...state, enabled: false, disabledReason: hostEvent.data.reason ?? null };
  }
  return state;
}

export const hostReducer = { initial: initialHost, evolve: evolveHost };

export function usedResources(state: HostState): Resources {
  return Object.values(state.allocations).reduce<Resources>(
    (sum, allocation) => ({
      vcpus: sum.vcpus + allocation.vcpus,
      ramMb: sum.ramMb + allocation.ramMb,
      diskGb: sum.diskGb + allocation.diskGb,
    }),
    { vcpus: 0, ramMb: 0, diskGb: 0 },
  );
}

/** Placement's capacity rule: (total − reserved) × allocation ratio. */
export function capacity(inventory: Inventory): Resources {
  return {
    vcpus: Math.floor((inventory.vcpus - inventory.reservedVcpus) * inventory.vcpuAllocationRatio),
    ramMb: Math.floor((inventory.ramMb - inventory.reservedRamMb) * inventory.ramAllocationRatio),
    diskGb: Math.floor((inventory.diskGb - inventory.reservedDiskGb) * inventory.diskAllocationRatio),
  };
}

export function freeResources(state: HostState): Resources {
  if (!state.inventory) return { vcpus: 0, ramMb: 0, diskGb: 0 };
  const total = capacity(state.inventory);
  const used = usedResources(state);
  return {
    vcpus: total.vcpus - used.vcpus,
    ramMb: total.ramMb - used.ramMb,
    diskGb: total.diskGb - used.diskGb,
  };
}

export const fits = (free: Resources, wanted: Resources): boolean =>
  wanted.vcpus <= free.vcpus && wanted.ramMb <= free.ramMb && wanted.diskGb <= free.diskGb;

function withClaim(state: HostState, claimed: ResourcesClaimed): HostState {
  const { instanceId, attempt, vcpus, ramMb, diskGb } = claimed;
  return {
    ...state,
    allocations: { ...state.allocations, [instanceId]: { attempt, vcpus, ramMb, diskGb } },
  };
}

export type ClaimDecision =
  | {
      readonly kind: 'claim';
      readonly events: readonly [ResourcesClaimed];
      /** The host once the claim is appended: what its writer may know before the store says so. */
      readonly next: HostState;
    }
  | { readonly kind: 'already-held' }
  | { readonly kind: 'no-capacity'; readonly free: Resources };

/**
 * Claims `wanted` for an instance's build attempt. A claim the instance already holds for the same
 * attempt is kept (a retried decision must not claim twice); one from an older attempt is replaced.
 */
export function decideClaim(
  state: HostState,
  instanceId: string,
  attempt: number,
  wanted: Resources,
): ClaimDecision {
  const held = state.allocations[instanceId];
  if (held && held.attempt === attempt) return { kind: 'already-held' };
  const free = freeResources(held ? evolveWithout(state, instanceId) : state);
  if (!state.enabled || !state.inventory || !fits(free, wanted)) return { kind: 'no-capacity', free };
  const claimed = build(ResourcesClaimed, { host: state.name, instanceId, attempt, ...wanted });
  return { kind: 'claim', events: [claimed], next: withClaim(state, claimed) };
}

/**
 * Makes what an instance placed on the host holds there exactly `wanted` (a resize grows it to the
 * larger flavor, a confirm or revert shrinks it to the one kept), under the claim's own attempt.
 * Holding it already is nothing to do; growing past the host's free room is refused.
 */
export function decideClaimSize(state: HostState, instanceId: string, wanted: Resources): ClaimDecision {
  const held = state.allocations[instanceId];
  if (held && held.vcpus === wanted.vcpus && held.ramMb === wanted.ramMb && held.diskGb === wanted.diskGb) {
    return { kind: 'already-held' };
  }
  const free = freeResources(held ? evolveWithout(state, instanceId) : state);
  if (!state.inventory || !fits(free, wanted)) return { kind: 'no-capacity', free };
  const claimed = build(ResourcesClaimed, {
    host: state.name,
    instanceId,
    attempt: held?.attempt ?? 1,
    ...wanted,
  });
  return { kind: 'claim', events: [claimed], next: withClaim(state, claimed) };
}

function evolveWithout(state: HostState, instanceId: string): HostState {
  const { [instanceId]: _dropped, ...rest } = state.allocations;
  return { ...state, allocations: rest };
}

/** Releasing what is not held is nothing to do (a retried delete, a failure already cleaned up). */
export function decideRelease(
  state: HostState,
  instanceId: string,
  reason: ResourceReleaseReason,
): ResourcesReleased[] {
  if (!state.allocations[instanceId]) return [];
  return [build(ResourcesReleased, { host: state.name, instanceId, reason })];
}
