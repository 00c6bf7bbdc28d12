/**
 * What the scheduler needs to know about one build attempt, taken from the instance's fold: the
 * resources to claim, where it may and may not go, and which hosts already failed it. Nova calls
 * this the RequestSpec.
 */
import type { CpuArchitecture, HypervisorType, ServerGroupPolicy } from '#libs/contracts';
import type { InstanceState, Resources } from '#libs/domain';

export interface RequestSpec {
  readonly instanceId: string;
  readonly projectId: string;
  readonly attempt: number;
  readonly resources: Resources;
  readonly availabilityZone: string | null;
  readonly image: {
    readonly architecture: CpuArchitecture | null;
    readonly hypervisorType: HypervisorType | null;
  };
  readonly serverGroup: { readonly id: string; readonly policy: ServerGroupPolicy } | null;
  /** Hosts where other members of the server group are, or are being built. */
  readonly groupHosts: readonly string[];
  readonly forcedHost: string | null;
  /** Hosts an earlier attempt of this build failed on. */
  readonly excludedHosts: readonly string[];
}

export function requestSpecOf(state: InstanceState, groupHosts: readonly string[]): RequestSpec {
  const boot = state.boot;
  if (!boot) throw new Error(`instance ${state.id} has no boot request`);
  return {
    instanceId: state.id,
    projectId: boot.projectId,
    attempt: state.attempt + 1,
    resources: { vcpus: boot.flavor.vcpus, ramMb: boot.flavor.ramMb, diskGb: boot.flavor.diskGb },
    availabilityZone: boot.availabilityZone ?? null,
    image: {
      architecture: boot.image.properties.architecture ?? null,
      hypervisorType: boot.image.properties.hypervisorType ?? null,
    },
    serverGroup: boot.serverGroup ? { id: boot.serverGroup.id, policy: boot.serverGroup.policy } : null,
    groupHosts,
    forcedHost: boot.forcedHost ?? null,
    excludedHosts: state.failedHosts,
  };
}
