/**
 * The scheduler's decisions about one instance, apart from choosing a host (the filters and
 * weighers do that on the cluster view): which scheduling work its state calls for, which claims it
 * may keep, whether Nova's quota recheck passes, and what a placement's outcome appends. The
 * scheduler loads, asks, claims and appends; this module never does: no view, no store, no clock.
 */
import {
  DomainDeleted,
  HostSelected,
  InstanceFailed,
  type Plain,
  ResizeClaimed,
  ResizeFailed,
  type ResourceReleaseReason,
  type SchedulingTrace,
  build,
} from '#libs/contracts';

import type { Resources } from './host.js';
import type { InstanceState } from './instance.js';
import { type InstanceUsage, QuotaExceeded, checkInstanceQuota } from './quota.js';

/** What an instance holds on one host: the build attempt its claim was made for. */
export interface HeldClaim {
  readonly host: string;
  readonly attempt: number;
}

/** Which of an instance's claims are released, and why; the rest are kept. */
export interface ReleaseRule {
  readonly reason: ResourceReleaseReason;
  /** The claim on this host is kept (the host it is placed on). */
  readonly keepHost: string | null;
  /** Claims made for this attempt are kept (a claim made before a crash is reused). */
  readonly keepAttempt: number | null;
}

export type SchedulingWork =
  /** A delete of a server that never got a host: nothing runs anywhere, so it ends here. */
  | {
      readonly kind: 'finish-delete';
      readonly release: ReleaseRule;
      readonly events: readonly [DomainDeleted];
    }
  /** No scheduling is due; only claims the instance no longer needs are released. */
  | { readonly kind: 'release'; readonly release: ReleaseRule }
  /**
   * Make what the instance holds on its host fit its flavor: the larger of the two while a resize is
   * under way or waits for confirmation, the one it has otherwise. A resize waiting for room names
   * what to append once the claim is made, and what when the host has none.
   */
  | {
      readonly kind: 'fit-claim';
      readonly release: ReleaseRule;
      readonly host: string;
      readonly wanted: Resources;
      readonly resize: {
        readonly claimed: readonly [ResizeClaimed];
        readonly refused: (reason: string) => readonly [ResizeFailed];
      } | null;
    }
  /** Every attempt was used: the instance goes to ERROR and gives back what it held. */
  | { readonly kind: 'give-up'; readonly release: ReleaseRule; readonly events: readonly [InstanceFailed] }
  /** Choose a host for this attempt, unless the instance already holds a claim for it. */
  | {
      readonly kind: 'schedule';
      readonly attempt: number;
      readonly release: ReleaseRule;
      /** The host this attempt already claimed (before a crash, or a lost race), if any. */
      readonly held: string | null;
      /** Nova's conductor rechecks quota before the first attempt only, and not for a claim it reuses. */
      readonly recheckQuota: boolean;
    };

/**
 * Whether an instance waits for the scheduler: a build for a host, a resize for room on its host,
 * or the delete of a server that never got one. The reconciler drives those the bus has not.
 */
export function awaitsScheduler(state: InstanceState): boolean {
  return (
    (state.taskState === 'scheduling' && state.vmState === 'building') ||
    state.taskState === 'resize_prep' ||
    (state.taskState === 'deleting' && state.host === null)
  );
}

/** Whether a claim on `host` is one its holder no longer needs: unknown, failed, deleted, or placed elsewhere. */
export function isStrayClaim(holder: InstanceState | undefined, host: string): boolean {
  return (
    !holder ||
    holder.vmState === 'error' ||
    holder.vmState === 'deleted' ||
    (holder.host !== null && holder.host !== host)
  );
}

const releaseAll = (reason: ResourceReleaseReason): ReleaseRule => ({
  reason,
  keepHost: null,
  keepAttempt: null,
});

export function mustRelease(rule: ReleaseRule, claim: HeldClaim): boolean {
  return claim.host !== rule.keepHost && claim.attempt !== rule.keepAttempt;
}

/**
 * The scheduling work an instance's state calls for, given the claims it holds and the attempts
 * allowed (Nova's max_attempts).
 */
export function schedulingWorkDue(
  state: InstanceState,
  holdings: readonly HeldClaim[],
  maxAttempts: number,
): SchedulingWork {
  if (state.taskState === 'deleting' && state.host === null) {
    const events = [build(DomainDeleted, { instanceId: state.id, host: null })] as const;
    return { kind: 'finish-delete', release: releaseAll('deleted'), events };
  }
  if (state.vmState === 'error' || state.vmState === 'deleted') {
    return { kind: 'release', release: releaseAll(state.vmState === 'deleted' ? 'deleted' : 'failed') };
  }
  if (state.taskState !== 'scheduling') {
    // Placed: whatever it holds anywhere but its host was a lost race or an earlier attempt.
    const release: ReleaseRule = { reason: 'rescheduled', keepHost: state.host, keepAttempt: null };
    const host = state.host;
    const wanted = resourcesHeld(state);
    if (host === null || wanted === null || state.vmState === 'building') return { kind: 'release', release };
    const instanceId = state.id;
    const resize =
      state.taskState === 'resize_prep'
        ? {
            claimed: [build(ResizeClaimed, { instanceId, host })] as const,
            refused: (reason: string) =>
              [build(ResizeFailed, { instanceId, reason: reason.slice(0, MAX_FAULT_MESSAGE) })] as const,
          }
        : null;
    return { kind: 'fit-claim', release, host, wanted, resize };
  }
  if (state.buildAborted) {
    // Nova's BuildAbortException: no other host can help, so no reschedule.
    const message = `Build of instance ${state.id} aborted: ${state.buildAborted}`.slice(
      0,
      MAX_FAULT_MESSAGE,
    );
    const events = [build(InstanceFailed, { instanceId: state.id, fault: { code: 500, message } })] as const;
    return { kind: 'give-up', release: releaseAll('failed'), events };
  }
  const attempt = state.attempt + 1;
  if (attempt > maxAttempts) {
    const fault = {
      code: 500,
      message: `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${state.id}.`,
    };
    const events = [build(InstanceFailed, { instanceId: state.id, fault })] as const;
    return { kind: 'give-up', release: releaseAll('failed'), events };
  }
  const held = holdings.find((claim) => claim.attempt === attempt)?.host ?? null;
  return {
    kind: 'schedule',
    attempt,
    release: { reason: 'rescheduled', keepHost: null, keepAttempt: attempt },
    held,
    recheckQuota: attempt === 1 && held === null && state.boot?.quota !== undefined,
  };
}

/**
 * What an instance holds on its host: its flavor, and while a resize is under way or waits for the
 * user the larger of the two flavors in each resource, as Nova keeps both until the user decides.
 */
export function resourcesHeld(state: InstanceState): Resources | null {
  const flavor = state.flavor;
  if (flavor === null) return null;
  const resize = state.resize;
  if (resize === null) return { vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: flavor.diskGb };
  return {
    vcpus: Math.max(resize.from.vcpus, resize.to.vcpus),
    ramMb: Math.max(resize.from.ramMb, resize.to.ramMb),
    diskGb: Math.max(resize.from.diskGb, resize.to.diskGb),
  };
}

/** The longest fault message kept: Nova's instance_faults.message column is 255 characters. */
const MAX_FAULT_MESSAGE = 255;

/**
 * Nova's quota recheck. The API checked the project's usage when it accepted the boot, but boots
 * racing for the last slot each saw it free. `usageBefore` counts the project's servers requested
 * before this one (in `$all` order), so exactly the boots that fit pass, whichever scheduler decides
 * them and however often. Over quota: InstanceFailed with Nova's 403 fault; within: nothing.
 */
export function decideQuotaRecheck(state: InstanceState, usageBefore: InstanceUsage): InstanceFailed[] {
  const boot = state.boot;
  if (!boot?.quota) return [];
  try {
    const { vcpus, ramMb } = boot.flavor;
    checkInstanceQuota(boot.quota, usageBefore, { vcpus, ramMb, minCount: 1, maxCount: 1 });
    return [];
  } catch (error) {
    if (!(error instanceof QuotaExceeded)) throw error;
    const fault = { code: 403, message: error.message.slice(0, MAX_FAULT_MESSAGE) };
    return [build(InstanceFailed, { instanceId: state.id, fault })];
  }
}

/** How choosing a host for an attempt ended. */
export type PlacementOutcome =
  | {
      readonly kind: 'claimed';
      readonly host: string;
      /** Every host the weighing ranked, best first; the others become the alternates. */
      readonly ranked: readonly string[];
      readonly trace: Plain<SchedulingTrace>;
    }
  | { readonly kind: 'no-valid-host'; readonly reason: string; readonly trace: Plain<SchedulingTrace> };

/** HostSelected for a claimed host, or InstanceFailed whose fault names the filter that emptied the list. */
export function decidePlacement(
  state: InstanceState,
  attempt: number,
  outcome: PlacementOutcome,
): (HostSelected | InstanceFailed)[] {
  if (outcome.kind === 'no-valid-host') {
    const message = `No valid host was found. ${outcome.reason}`.slice(0, MAX_FAULT_MESSAGE);
    return [
      build(InstanceFailed, { instanceId: state.id, fault: { code: 500, message }, trace: outcome.trace }),
    ];
  }
  return [
    build(HostSelected, {
      instanceId: state.id,
      attempt,
      host: outcome.host,
      alternates: outcome.ranked.filter((host) => host !== outcome.host),
      trace: outcome.trace,
    }),
  ];
}

/**
 * Where the other live members of the instance's server group are, or are being built: the
 * affinity filters read it. Members in ERROR, deleted or not yet placed hold no host.
 */
export function serverGroupHosts(state: InstanceState, others: Iterable<InstanceState>): string[] {
  const group = state.boot?.serverGroup;
  if (!group) return [];
  const hosts = new Set<string>();
  for (const other of others) {
    if (other.id === state.id || other.boot?.serverGroup?.id !== group.id) continue;
    if (other.vmState === 'deleted' || other.vmState === 'error' || other.host === null) continue;
    hosts.add(other.host);
  }
  return [...hosts];
}
