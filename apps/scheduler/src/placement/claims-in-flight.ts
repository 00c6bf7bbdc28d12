/**
 * The claims this scheduler is appending right now. Weighing counts them as taken already, so
 * decisions made while an append is on its way spread over the hosts instead of all picking the
 * host that was best a moment ago. Claims on one host are appended one after another, each at the
 * revision the previous one left, so decisions in one process never race each other for a host;
 * other schedulers are still fenced by the expected revision.
 */
import { KeyedMutex } from '#libs/concurrency';
import type { Allocation, HostState } from '#libs/domain';

export class ClaimsInFlight {
  /** host → instance id → what it is claiming there. */
  private readonly hosts = new Map<string, Map<string, Allocation>>();
  /** One append per host at a time, in the order the claims came. */
  private readonly appends = new KeyedMutex();

  /** The host as weighing should see it: its folded allocations plus the claims on their way. */
  overlay(state: HostState): HostState {
    const claims = this.hosts.get(state.name);
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
    const claims = this.hosts.get(host) ?? new Map<string, Allocation>();
    this.hosts.set(host, claims);
    claims.set(instanceId, allocation);
    try {
      return await this.appends.run(host, append);
    } finally {
      claims.delete(instanceId);
      if (claims.size === 0 && this.hosts.get(host) === claims) this.hosts.delete(host);
    }
  }

  /** How many claims are on their way (for tests and status). */
  get size(): number {
    let count = 0;
    for (const claims of this.hosts.values()) count += claims.size;
    return count;
  }
}
