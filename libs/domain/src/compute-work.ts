/**
 * The compute agent's decisions about one instance placed on a host it serves: which work is due in
 * the instance's current task state, and what the result of that work means for the stream (the
 * events to append). The agent does the work on the hypervisor in between; this module never does:
 * no driver, no store, no clock.
 */
import {
  type BootRequested,
  type ConsoleRevokeReason,
  DomainDeleted,
  DomainRebooted,
  DomainRebuilt,
  DomainResized,
  DomainStartFailed,
  DomainStarted,
  DomainStopped,
  type ImageSnapshot,
  InstanceFailed,
  ResizeFailed,
  ResizeReverted,
  SnapshotFailed,
  SnapshotTaken,
  type RebootType,
  build,
} from '#libs/contracts';

import { ConflictingState } from './errors.js';
import type { InstanceState } from './instance.js';

/**
 * Work on the instance's host. Work that ends the domain's VNC server names the reason its console
 * tokens are revoked first, since the port may belong to another domain afterwards.
 */
export type ComputeWork =
  | { readonly kind: 'spawn'; readonly host: string; readonly boot: BootRequested }
  | { readonly kind: 'power-off'; readonly host: string; readonly revoke: ConsoleRevokeReason }
  | { readonly kind: 'power-on'; readonly host: string }
  | {
      readonly kind: 'reboot';
      readonly host: string;
      readonly type: RebootType;
      readonly revoke: ConsoleRevokeReason;
    }
  | {
      readonly kind: 'rebuild';
      readonly host: string;
      readonly boot: BootRequested;
      readonly image: ImageSnapshot;
      /** Whether the rebuilt domain is started: a server that was off stays off. */
      readonly running: boolean;
      readonly revoke: ConsoleRevokeReason;
    }
  | {
      readonly kind: 'resize';
      readonly host: string;
      /** What the domain gets: the new flavor's, or the old one's when the resize is reverted. */
      readonly vcpus: number;
      readonly memoryMib: number;
      /** Whether the domain runs afterwards: a server that was off stays off. */
      readonly running: boolean;
      readonly revert: boolean;
      readonly revoke: ConsoleRevokeReason;
    }
  | { readonly kind: 'snapshot'; readonly host: string; readonly imageId: string }
  | { readonly kind: 'destroy'; readonly host: string; readonly revoke: ConsoleRevokeReason };

/** What the work came to on the host. */
export type ComputeResult =
  | { readonly kind: 'spawned'; readonly domainName: string }
  | { readonly kind: 'spawn-failed'; readonly reason: string; readonly retryable: boolean }
  | { readonly kind: 'powered-off'; readonly forced: boolean }
  | { readonly kind: 'powered-on'; readonly domainName: string }
  | { readonly kind: 'rebooted'; readonly type: RebootType }
  | { readonly kind: 'rebuilt'; readonly domainName: string }
  | { readonly kind: 'rebuild-failed'; readonly reason: string }
  | { readonly kind: 'resized' }
  | { readonly kind: 'resize-failed'; readonly reason: string }
  | { readonly kind: 'snapshotted' }
  | { readonly kind: 'snapshot-failed'; readonly reason: string }
  | { readonly kind: 'destroyed' };

/** The longest failure reason kept: DomainStartFailed allows 1024 characters. */
const MAX_REASON = 1000;

/**
 * The work due for an instance, or null when there is none: nothing at rest, nothing before a host
 * is chosen, and scheduling is the scheduler's. A soft reboot may end hard on the host, which starts
 * a new VNC server too, so every reboot revokes.
 */
export function computeWorkDue(state: InstanceState): ComputeWork | null {
  const host = state.host;
  if (!state.exists || host === null) return null;
  switch (state.taskState) {
    case 'spawning':
      return state.boot ? { kind: 'spawn', host, boot: state.boot } : null;
    case 'powering-off':
      return { kind: 'power-off', host, revoke: 'instance-stopped' };
    case 'powering-on':
      return { kind: 'power-on', host };
    case 'rebooting':
    case 'rebooting_hard':
      return {
        kind: 'reboot',
        host,
        type: state.taskState === 'rebooting_hard' ? 'HARD' : 'SOFT',
        revoke: 'instance-rebooted',
      };
    case 'rebuilding':
      // The domain is made anew, so its VNC server ends as in a hard reboot.
      return state.boot && state.image
        ? {
            kind: 'rebuild',
            host,
            boot: state.boot,
            image: state.image,
            running: state.vmState === 'active',
            revoke: 'instance-rebooted',
          }
        : null;
    case 'resize_migrating':
    case 'resize_reverting': {
      // The domain is power cycled to take its new size, so its VNC server ends as in a hard reboot.
      const resize = state.resize;
      if (resize === null) return null;
      const revert = state.taskState === 'resize_reverting';
      const flavor = revert ? resize.from : resize.to;
      return {
        kind: 'resize',
        host,
        vcpus: flavor.vcpus,
        memoryMib: flavor.ramMb,
        running: resize.wasRunning,
        revert,
        revoke: 'instance-rebooted',
      };
    }
    case 'image_snapshot': {
      const imageId = state.snapshotImageId;
      return imageId === null ? null : { kind: 'snapshot', host, imageId };
    }
    case 'deleting':
      return { kind: 'destroy', host, revoke: 'instance-deleted' };
    default:
      return null;
  }
}

const ANSWERS: Readonly<Record<ComputeResult['kind'], ComputeWork['kind']>> = {
  spawned: 'spawn',
  'spawn-failed': 'spawn',
  'powered-off': 'power-off',
  'powered-on': 'power-on',
  rebooted: 'reboot',
  rebuilt: 'rebuild',
  'rebuild-failed': 'rebuild',
  resized: 'resize',
  'resize-failed': 'resize',
  snapshotted: 'snapshot',
  'snapshot-failed': 'snapshot',
  destroyed: 'destroy',
};

/**
 * What a result means for the instance it was due for. A result that answers no work due in this
 * state (the stream moved on, or the caller mixed results up) is refused, never recorded.
 */
export function decideComputeResult(
  state: InstanceState,
  result: ComputeResult,
): (
  | DomainStarted
  | DomainStartFailed
  | DomainStopped
  | DomainRebooted
  | DomainRebuilt
  | DomainResized
  | ResizeFailed
  | ResizeReverted
  | InstanceFailed
  | SnapshotTaken
  | SnapshotFailed
  | DomainDeleted
)[] {
  const work = computeWorkDue(state);
  if (work === null || ANSWERS[result.kind] !== work.kind) {
    throw new ConflictingState(
      `A '${result.kind}' result does not answer the work due for instance ${state.id} (${work?.kind ?? 'none'})`,
    );
  }
  const { host } = work;
  const instanceId = state.id;
  switch (result.kind) {
    case 'spawned':
      return [build(DomainStarted, { instanceId, host, domainName: result.domainName, reason: 'boot' })];
    case 'spawn-failed':
      return [
        build(DomainStartFailed, {
          instanceId,
          host,
          attempt: state.attempt,
          reason: result.reason.slice(0, MAX_REASON) || 'unknown error',
          retryable: result.retryable,
        }),
      ];
    case 'powered-off':
      return [build(DomainStopped, { instanceId, host, forced: result.forced })];
    case 'powered-on':
      return [build(DomainStarted, { instanceId, host, domainName: result.domainName, reason: 'start' })];
    case 'rebooted':
      return [build(DomainRebooted, { instanceId, host, type: result.type })];
    case 'rebuilt':
      return [build(DomainRebuilt, { instanceId, host, domainName: result.domainName })];
    case 'rebuild-failed':
      // The domain is gone (the agent destroys what a failed rebuild leaves): the server is in error.
      return [
        build(InstanceFailed, {
          instanceId,
          fault: {
            code: 500,
            message: `Rebuilding instance ${instanceId} failed.`,
            details: result.reason.slice(0, MAX_REASON) || 'unknown error',
          },
        }),
      ];
    case 'resized':
      return (work as Extract<ComputeWork, { kind: 'resize' }>).revert
        ? [build(ResizeReverted, { instanceId, host })]
        : [build(DomainResized, { instanceId, host })];
    case 'resize-failed': {
      const reason = result.reason.slice(0, MAX_REASON) || 'unknown error';
      // A resize that failed leaves the old flavor (the agent puts it back); a revert that failed
      // leaves a domain of neither flavor for sure: the server is in error, as in Nova.
      return (work as Extract<ComputeWork, { kind: 'resize' }>).revert
        ? [
            build(InstanceFailed, {
              instanceId,
              fault: {
                code: 500,
                message: `Reverting the resize of instance ${instanceId} failed.`,
                details: reason,
              },
            }),
          ]
        : [build(ResizeFailed, { instanceId, reason })];
    }
    case 'snapshotted':
    case 'snapshot-failed': {
      const imageId = (work as Extract<ComputeWork, { kind: 'snapshot' }>).imageId;
      return result.kind === 'snapshotted'
        ? [build(SnapshotTaken, { instanceId, imageId })]
        : [
            build(SnapshotFailed, {
              instanceId,
              imageId,
              reason: result.reason.slice(0, MAX_REASON) || 'unknown error',
            }),
          ];
    }
    case 'destroyed':
      return [build(DomainDeleted, { instanceId, host })];
  }
}
