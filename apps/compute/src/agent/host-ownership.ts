/**
 * Which hosts of its inventory this agent drives now. Several agents may share an inventory (two
 * agents for one rack, so that either may fail); each host is driven by exactly one of them at a time,
 * the holder of its lease (`host.<name>` in the NATS key-value bucket of leases). When an agent dies,
 * its leases lapse and the other agents take its hosts over within a lease's time to live; when it
 * stops cleanly it gives them up at once. The live agents share the hosts out evenly among them
 * (`LeaseKeeper` with the group `agent.`): an agent that joins is handed its share by the others.
 * A host handed over is fenced at once, like one whose lease lapsed: work under way on it is refused
 * at its next step and done again by the new owner, each step being safe to repeat.
 *
 * The fence: everything the agent does to a host (the driver's changes) and every append it makes
 * for one is checked against the lease right before it happens, and refused with `HostNotOwned` once
 * the lease is no longer trusted, so an agent paused past its lease and woken after another took the
 * host acts on it no more. What slips between that last check and the store's answer is met by the
 * store itself: every result is appended at the revision it was decided on, so it cannot land on top
 * of what the new owner recorded meanwhile.
 */
import { type Lease, type LeaseBoard, LeaseKeeper } from '#libs/bus';
import { AGENT_MEMBER_PREFIX, hostLeaseKey } from '#libs/contracts';

/** Work on a host this agent does not hold: nothing was done, and the host's owner does it instead. */
export class HostNotOwned extends Error {
  override readonly name = 'HostNotOwned';
  constructor(readonly host: string) {
    super(`this agent does not hold the lease on ${host}; its owner does the work`);
  }
}

/** Whether this agent may act on a host now. */
export interface HostFence {
  owns(host: string): boolean;
}

/** What the agent does when a host becomes its own, or stops being so. */
export interface OwnershipListener {
  gained(host: string, lease: Lease): Promise<void> | void;
  lost(host: string): Promise<void> | void;
}

/** Throws HostNotOwned unless the fence lets the agent act on the host. */
export function assertOwns(fence: HostFence, host: string): void {
  if (!fence.owns(host)) throw new HostNotOwned(host);
}

export class HostOwnership implements HostFence {
  private keeper: LeaseKeeper | null = null;
  private readonly hostOf = new Map<string, string>();

  constructor(
    private readonly board: LeaseBoard,
    private readonly hosts: readonly string[],
  ) {
    for (const host of hosts) this.hostOf.set(hostLeaseKey(host), host);
  }

  get agentId(): string {
    return this.board.holder;
  }

  /** Takes what hosts it can now (their `gained` run before this resolves), and keeps trying. */
  start(listener: OwnershipListener): Promise<void> {
    const hostOf = (key: string): string => this.hostOf.get(key) ?? key;
    this.keeper ??= new LeaseKeeper(
      this.board,
      {
        gained: (key, lease) => listener.gained(hostOf(key), lease),
        lost: (key) => listener.lost(hostOf(key)),
      },
      { memberPrefix: AGENT_MEMBER_PREFIX },
    );
    return this.keeper.start([...this.hostOf.keys()]);
  }

  owns(host: string): boolean {
    return this.keeper?.holds(hostLeaseKey(host)) ?? false;
  }

  /** The hosts this agent drives now, each with its lease's revision (the fencing token). */
  owned(): { host: string; leaseRevision: number }[] {
    return this.hosts.flatMap((host) => {
      const lease = this.keeper?.lease(hostLeaseKey(host));
      return lease ? [{ host, leaseRevision: lease.revision }] : [];
    });
  }

  /** Gives every host up at once, for another agent to take. */
  async stop(): Promise<void> {
    await this.keeper?.stop();
  }
}
