/**
 * What Nova's `_sync_power_states` and its cleanup of running deleted instances do: compares what
 * each host runs with what the store says it should, records the difference as events, and
 * removes domains the store does not know.
 *  - A server the store thinks is running whose domain stopped, crashed or vanished gets
 *    PowerStateChanged (the fold then shows SHUTOFF or ERROR); the consoles of a domain that is
 *    down are revoked first.
 *  - A server the store thinks is stopped whose domain runs is powered off: the store wins.
 *  - A Nimbus domain whose instance is deleted, unknown, or placed on another host is destroyed.
 * Domains Nimbus did not create are never touched. Every verdict is checked against the
 * instance's stream itself, not a possibly lagging view, before anything is changed. The verdicts
 * are the domain's (power-sync.ts); this shell lists domains, folds, and carries them out.
 */
import { Logger } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import { decidePowerSync, instanceReducer } from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import { type DomainSummary, type HypervisorDriver, domainNameOf } from '../hypervisor/index.js';
import { COMPUTE_ACTOR, type ComputeAgent } from './compute-agent.js';
import { revokeConsoles } from './console-revocation.js';

export interface SyncReport {
  readonly host: string;
  readonly changed: readonly string[];
  readonly stopped: readonly string[];
  readonly destroyed: readonly string[];
}

export class PowerSync {
  private readonly logger = new Logger(PowerSync.name);

  constructor(
    private readonly store: EventStore,
    private readonly driver: HypervisorDriver,
    private readonly agent: ComputeAgent,
  ) {}

  async syncHost(host: string, knownOnHost: readonly string[], correlationId: string): Promise<SyncReport> {
    // Nothing is recorded for a host once this agent no longer holds it.
    const context: EventContext = {
      correlationId,
      causationId: null,
      actor: COMPUTE_ACTOR,
      fence: () => this.agent.assertServes(host),
    };
    const domains = await this.driver.listDomains(host);
    const byInstance = new Map<string, DomainSummary>();
    for (const domain of domains) if (domain.instanceId) byInstance.set(domain.instanceId, domain);
    const report = { host, changed: [] as string[], stopped: [] as string[], destroyed: [] as string[] };

    const candidates = new Set([...knownOnHost, ...byInstance.keys()]);
    for (const instanceId of candidates) {
      if (this.agent.isDriving(instanceId)) continue;
      try {
        await this.syncInstance(host, instanceId, byInstance.get(instanceId), context, report);
      } catch (error) {
        // One instance's trouble (a lost race, a host hiccup) must not stop the sweep of the rest.
        this.logger.warn(`power sync of ${instanceId} on ${host}: ${(error as Error).message}`);
      }
    }
    return report;
  }

  private async syncInstance(
    host: string,
    instanceId: string,
    domain: DomainSummary | undefined,
    context: EventContext,
    report: { changed: string[]; stopped: string[]; destroyed: string[] },
  ): Promise<void> {
    const stream = streamFor('instance', instanceId);
    const { state, revision } = await this.store.fold(stream, instanceReducer);
    const verdict = decidePowerSync(state, host, domain?.powerState ?? null);
    switch (verdict.kind) {
      case 'in-step':
        // Its NICs as well: an attach or detach a crash interrupted is finished here.
        if (domain !== undefined) await this.agent.syncNics(host, state);
        return;
      case 'destroy-domain':
        await this.driver.destroy(host, domainNameOf(instanceId));
        report.destroyed.push(instanceId);
        this.logger.warn(`destroyed domain of ${instanceId} on ${host}: the store does not place it here`);
        return;
      case 'record': {
        // Given only for an instance placed here, whose stream therefore exists.
        if (revision === null) return;
        // The listing predates the fold: a build or start that ended in between is not yet in it.
        // Only what the host shows now, after the fold, may be recorded as a change behind our back;
        // the append at the folded revision then refuses it if the stream moved on meanwhile.
        const now = await this.driver.powerState(host, domainNameOf(instanceId));
        const confirmed = decidePowerSync(state, host, now === 'absent' ? null : now);
        if (confirmed.kind !== 'record') return;
        if (confirmed.revokeConsoles) await revokeConsoles(this.store, state, 'power-state-changed', context);
        await this.store.append(stream, confirmed.events, revision, context);
        report.changed.push(instanceId);
        return;
      }
      case 'power-off':
        await this.driver.powerOff(host, domainNameOf(instanceId), { timeoutMs: 0 });
        report.stopped.push(instanceId);
        return;
    }
  }
}
