/**
 * The claims this scheduler is appending right now. Weighing counts them as taken already, so
 * decisions made while an append is on its way spread over the hosts instead of all picking the
 * host that was best a moment ago. Claims on one host are appended one after another, each at the
 * revision the previous one left, so decisions in one process never race each other for a host;
 * other schedulers are still fenced by the expected revision.
 */
import type { Allocation, HostState } from '#libs/domain';

interface HostQueue {
  /** Settles when the last claim queued on the host has been appended or refused. */
  tail: Promise<void>;
  /** instance id → what it is claiming. */
  readonly claims: Map<string, Allocation>;
}

const ignore = (): void => undefined;

export class ClaimsInFlight {
  private readonly hosts = new Map<string, HostQueue>();

  /** The host as weighing should see it: its folded allocations plus the claims on their way. */
  overlay(state: HostState): HostState {
    const claims = this.hosts.get(state.name)?.claims;
    if (!claims || claims.size === 0) return state;
    return { ...state, allocations: { ...Object.fromEntries(claims), ...state.allocations } };
  }

  /**
   * Counts `allocation` as taken on `host` from now on, and runs `append` once every claim queued
   * on the host before it has settled. The claim stops counting when `append` settles: by then it
   * is either in the folded host or refused.
   */
  async claim<T>(
    host: string,
    instanceId: string,
    allocation: Allocation,
    append: () => Promise<T>,
  ): Promise<T> {
    let queue = this.hosts.get(host);
    if (!queue) {
      queue = { tail: Promise.resolve(), claims: new Map() };
      this.hosts.set(host, queue);
    }
    queue.claims.set(instanceId, allocation);
    const result = queue.tail.then(append);
    queue.tail = result.then(ignore, ignore);
    try {
      return await result;
    } finally {
      queue.claims.delete(instanceId);
      if (queue.claims.size === 0 && this.hosts.get(host) === queue) this.hosts.delete(host);
    }
  }

  /** How many claims are on their way (for tests and status). */
  get size(): number {
    let count = 0;
    for (const queue of this.hosts.values()) count += queue.claims.size;
    return count;
  }
}
