/**
 * The agent's long-running parts: it takes the leases of the hosts of its inventory that no other
 * agent holds, and for each host it holds it registers the host and its inventory, answers its console
 * commands, beats a heartbeat on NATS, sweeps its domains against the store (power sync, orphans), and
 * reconciles: any instance on its hosts with a task the bus never delivered is driven anyway, so a
 * lost message or a crash mid-operation only delays work. A host taken over from an agent that died
 * has all its due work driven at once, whatever its age: its old owner can no longer be doing it.
 */
import { randomUUID } from 'node:crypto';

import { type BeforeApplicationShutdown, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import type { CommandServer, HeartbeatBoard, Lease } from '#libs/bus';
import type { ClusterView } from '#libs/cluster-view';
import { computeWorkDue, sameInventory } from '#libs/domain';
import type { EventStore } from '#libs/event-store';

import { COMPUTE_ACTOR, type ComputeAgent } from './agent/compute-agent.js';
import { type HostFacts, type HostPolicy, inventoryOf, registerHost } from './agent/host-registry.js';
import type { HostOwnership } from './agent/host-ownership.js';
import type { PowerSync } from './agent/power-sync.js';
import type { HypervisorDriver } from './hypervisor/index.js';

export interface RuntimeSettings {
  readonly hosts: readonly HostFacts[];
  readonly policy: HostPolicy;
  readonly heartbeatIntervalMs: number;
  readonly syncIntervalMs: number;
  readonly reconcileIntervalMs: number;
  /** How long a shutdown waits for the work under way. */
  readonly shutdownGraceMs: number;
}

/** Work younger than this is left to the bus's fast path. */
const RECONCILE_GRACE_MS = 3_000;

export class ComputeRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ComputeAgent');
  private readonly timers: NodeJS.Timeout[] = [];
  private ready = false;
  private sweeping = false;
  private beating = false;

  constructor(
    private readonly settings: RuntimeSettings,
    private readonly store: EventStore,
    private readonly driver: HypervisorDriver,
    private readonly view: ClusterView,
    private readonly agent: ComputeAgent,
    private readonly powerSync: PowerSync,
    private readonly heartbeats: HeartbeatBoard,
    private readonly ownership: HostOwnership,
    private readonly commands: CommandServer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.view.start();
    await this.ownership.start({
      gained: (host, lease) => this.takeUp(host, lease),
      lost: (host) => this.letGo(host),
    });
    this.every(this.settings.heartbeatIntervalMs, () => this.beat());
    this.every(this.settings.reconcileIntervalMs, () => this.reconcile());
    this.every(this.settings.syncIntervalMs, () => this.sync());
    this.ready = true;
  }

  /**
   * Graceful shutdown: no new work (timers stopped, the agent refuses drives, so the bus redelivers
   * them), the work under way finishes within the grace period, then the hypervisor connections close.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const cutOff = await this.agent.stop(this.settings.shutdownGraceMs);
    if (cutOff > 0) this.logger.warn(`${cutOff} drive(s) cut off by shutdown; the next agent does them`);
    // Given up only now that the work under way is done: another agent takes the hosts over at once.
    await this.ownership.stop();
    await this.view.stop();
    await this.driver.close();
  }

  status(): {
    ready: boolean;
    agent: string;
    hosts: string[];
    leases: { host: string; leaseRevision: number }[];
    spawns: { count: number; p50Ms: number | null };
  } {
    const times = [...this.agent.spawnTimesMs].sort((a, b) => a - b);
    const p50 = times.length === 0 ? null : Number((times[Math.ceil(times.length / 2) - 1] ?? 0).toFixed(1));
    const leases = this.ownership.owned();
    return {
      ready: this.ready,
      agent: this.ownership.agentId,
      hosts: leases.map(({ host }) => host),
      leases,
      spawns: { count: times.length, p50Ms: p50 },
    };
  }

  /**
   * A host became this agent's: it is registered (or its inventory brought up to date), its console
   * commands come here, its heartbeat starts, and every instance on it with work due is driven now.
   */
  private async takeUp(host: string, lease: Lease): Promise<void> {
    const facts = this.settings.hosts.find(({ name }) => name === host);
    if (!facts) return;
    this.logger.log(`host ${host} is this agent's now (lease revision ${lease.revision})`);
    await this.commands.serveHost(host);
    const context = { correlationId: `req-${randomUUID()}`, causationId: null, actor: COMPUTE_ACTOR };
    try {
      const result = await registerHost(this.store, this.driver, facts, this.settings.policy, {
        ...context,
        fence: () => this.agent.assertServes(host),
      });
      if (result.registered || result.inventoryChanged) this.logger.log(`host ${host} registered`);
      await this.heartbeats.beat([host]);
    } catch (error) {
      // An unreachable host is registered by a later sweep; its heartbeat waits until then.
      this.logger.warn(`host ${host} not registered yet: ${(error as Error).message}`);
    }
    const due = [...this.view.allInstances()]
      .map(({ state }) => state)
      .filter((state) => state.host === host && computeWorkDue(state) !== null);
    for (const state of due) {
      this.agent.drive(state.id).catch((error: unknown) => {
        this.logger.warn(`taking up ${state.id} on ${host}: ${(error as Error).message}`);
      });
    }
  }

  /** The host is no longer this agent's: its commands go to its new owner; the fence stops the rest. */
  private async letGo(host: string): Promise<void> {
    this.logger.warn(`host ${host} is no longer this agent's`);
    await this.commands.stopServingHost(host);
  }

  /** The hosts this agent holds now. */
  private ownedHosts(): HostFacts[] {
    return this.settings.hosts.filter(({ name }) => this.ownership.owns(name));
  }

  private every(ms: number, work: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      work().catch((error: unknown) => {
        this.logger.warn((error as Error).message);
      });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** One beat per host, unless the last is still being kept (a slow JetStream must not pile them up). */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.heartbeats.beat(this.ownedHosts().map((host) => host.name));
    } finally {
      this.beating = false;
    }
  }

  /** Instances on this agent's hosts with a task under way for longer than the fast path takes. */
  async reconcile(): Promise<number> {
    const cutoff = Date.now() - RECONCILE_GRACE_MS;
    const due = [...this.view.allInstances()]
      .map(({ state }) => state)
      .filter(
        (state) =>
          this.agent.serves(state.host) &&
          computeWorkDue(state) !== null &&
          !this.agent.isDriving(state.id) &&
          Date.parse(state.updatedAt ?? '') <= cutoff,
      );
    for (const state of due) await this.agent.drive(state.id);
    return due.length;
  }

  /** Each sweep also re-reads each host's inventory; a change is reported, no change writes nothing. */
  async sync(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const host of this.ownedHosts()) {
        // Compared with the view first, so a sweep over many hosts reads no stream when nothing changed.
        const measured = inventoryOf(await this.driver.inventory(host.name), this.settings.policy);
        if (sameInventory(this.view.host(host.name)?.state.inventory ?? null, measured)) continue;
        const context = { correlationId: `req-${randomUUID()}`, causationId: null, actor: COMPUTE_ACTOR };
        const { inventoryChanged } = await registerHost(this.store, this.driver, host, this.settings.policy, {
          ...context,
          fence: () => this.agent.assertServes(host.name),
        });
        if (inventoryChanged) this.logger.log(`host ${host.name}: inventory changed`);
      }
      for (const { name } of this.ownedHosts()) {
        const known = [...this.view.allInstances()]
          .filter(({ state }) => state.host === name)
          .map(({ state }) => state.id);
        await this.powerSync.syncHost(name, known, `req-${randomUUID()}`);
        const running = [...this.view.allInstances()]
          .map(({ state }) => state)
          .filter(
            (state) => state.host === name && state.vmState === 'active' && state.interfaces.length > 0,
          );
        // A security group's change reaches the host here; one network's trouble is the next sweep's.
        await this.agent.serveHostNetworks(name, running).catch((error: unknown) => {
          this.logger.warn(`serving the networks of ${name}: ${(error as Error).message}`);
        });
      }
    } finally {
      this.sweeping = false;
    }
  }
}
