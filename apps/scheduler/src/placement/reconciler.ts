/**
 * The level-triggered half of the scheduler: every few seconds it compares what the store says
 * should happen with what has happened and drives the difference, so a BootRequested or a
 * DomainStartFailed the bus lost (a crash, a wiped JetStream) only delays work. It looks for
 * builds waiting for a host, deletes of servers that never got one, and claims held by instances
 * that no longer need them (the domain's `awaitsScheduler` and `isStrayClaim` say which).
 */
import { Logger } from '@nestjs/common';

import type { ClusterView } from '#libs/cluster-view';
import { awaitsScheduler, isStrayClaim } from '#libs/domain';

import type { SchedulerService } from './scheduler.service.js';

export class SchedulerReconciler {
  private readonly logger = new Logger(SchedulerReconciler.name);
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly view: ClusterView,
    private readonly scheduler: SchedulerService,
    /** Work younger than this is left to the bus's fast path. */
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      void this.sweep();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Instance ids with scheduling work due; exposed for tests. */
  due(): string[] {
    const due = new Set<string>();
    const cutoff = this.now() - this.graceMs;
    for (const { state } of this.view.allInstances()) {
      if (awaitsScheduler(state) && Date.parse(state.updatedAt ?? '') <= cutoff) due.add(state.id);
    }
    for (const { state: host } of this.view.allHosts()) {
      for (const instanceId of Object.keys(host.allocations)) {
        const holder = this.view.instance(instanceId)?.state;
        if (!isStrayClaim(holder, host.name)) continue;
        // A server deleted a moment ago is the bus's to release, as is any change within the grace.
        const changedAt = holder ? holder.updatedAt : this.view.deletedAt(instanceId);
        if (changedAt === undefined || Date.parse(changedAt ?? '') <= cutoff) due.add(instanceId);
      }
    }
    return [...due];
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const due = this.due();
      for (const instanceId of due) {
        try {
          await this.scheduler.drive(instanceId);
        } catch (error) {
          this.logger.warn(`reconciling ${instanceId}: ${(error as Error).message}`);
        }
      }
      if (due.length > 0) this.logger.log(`reconciled ${due.length} instance(s) the bus had not driven`);
      return due.length;
    } finally {
      this.sweeping = false;
    }
  }
}
