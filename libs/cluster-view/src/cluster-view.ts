/**
 * An in-memory read model of every instance and host, folded with the domain's own reducers from a
 * `$all` subscription. The scheduler reads hosts and server-group placements from it, the compute
 * agent the instances on its hosts, and both reconcilers scan it for work the bus never delivered.
 * It is rebuilt from the store on start; decisions taken from it still append with the revision it
 * folded, so a lagging view can cause a retry, never a wrong write. A deleted server leaves it, all
 * but its id and when it went: nothing is decided for it any more, so neither the memory the view
 * holds nor the scans of its instances grow with the servers a cloud has ever had.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';

import { BootRequested, parseStreamName } from '#libs/contracts';
import {
  type HostState,
  type InstanceState,
  type InstanceUsage,
  hostReducer,
  instanceReducer,
  resourcesHeld,
} from '#libs/domain';
import {
  MemoryCheckpointStore,
  type RunningSubscription,
  type StoredEvent,
  runSubscription,
} from '#libs/event-store';

export interface Folded<S> {
  readonly state: S;
  readonly revision: bigint;
}

export type ViewListener = (event: StoredEvent) => void;

export class ClusterView {
  private readonly instances = new Map<string, Folded<InstanceState>>();
  private readonly hosts = new Map<string, Folded<HostState>>();
  private readonly listeners = new Set<ViewListener>();
  private subscription: RunningSubscription | null = null;
  /** Where each live instance's BootRequested stands in `$all`: the order quota rechecks count in. */
  private readonly bootPositions = new Map<string, bigint>();
  private readonly liveByProject = new Map<string, Set<string>>();
  /** Deleted servers: when each went (its last event's time). Their later events change nothing. */
  private readonly deleted = new Map<string, string | null>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly name: string,
  ) {}

  /** Starts following the store; resolves once history is folded. */
  async start(): Promise<void> {
    this.subscription = runSubscription(this.client, {
      name: `${this.name}-view`,
      streamPrefixes: ['instance-', 'host-'],
      // The view lives in memory and is rebuilt from the start on every run.
      checkpoints: new MemoryCheckpointStore(),
      handle: (event) => {
        this.apply(event);
        return Promise.resolve();
      },
    });
    await this.subscription.caughtUp;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  /** Called after each event is folded in (the fast path for reacting to what just happened). */
  onEvent(listener: ViewListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A server as the view has it; undefined once deleted (see `deletedAt`) or before it is known. */
  instance(id: string): Folded<InstanceState> | undefined {
    return this.instances.get(id);
  }

  /** When a deleted server went; undefined for one not (known to be) deleted. */
  deletedAt(id: string): string | null | undefined {
    return this.deleted.get(id);
  }

  allInstances(): IterableIterator<Folded<InstanceState>> {
    return this.instances.values();
  }

  host(name: string): Folded<HostState> | undefined {
    return this.hosts.get(name);
  }

  allHosts(): IterableIterator<Folded<HostState>> {
    return this.hosts.values();
  }

  /** Folds one event in; also used to apply what this process itself just appended. */
  apply(event: StoredEvent): void {
    const { category, id } = parseStreamName(event.stream);
    if (category === 'instance' && !this.deleted.has(id)) {
      const current = this.instances.get(id);
      if (current && current.revision >= event.revision) return;
      const state = instanceReducer.evolve(current?.state ?? instanceReducer.initial(), event);
      this.indexBoot(id, state, event);
      this.keep(id, { state, revision: event.revision });
    } else if (category === 'host') {
      const current = this.hosts.get(id);
      if (current && current.revision >= event.revision) return;
      this.hosts.set(id, {
        state: hostReducer.evolve(current?.state ?? hostReducer.initial(), event),
        revision: event.revision,
      });
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * The `$all` commit position of the instance's BootRequested, once the subscription has folded it,
   * and with it everything before it; waits at most `timeoutMs`. Undefined when it did not arrive in
   * time or the instance is gone.
   */
  async whenBootFolded(instanceId: string, timeoutMs: number): Promise<bigint | undefined> {
    const known = this.bootPositions.get(instanceId);
    if (known !== undefined) return known;
    return new Promise((resolve) => {
      const done = (position: bigint | undefined): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(position);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const unsubscribe = this.onEvent(() => {
        const position = this.bootPositions.get(instanceId);
        if (position !== undefined) done(position);
      });
    });
  }

  /**
   * What the project's servers requested before `position` hold, counted as Nova counts usage: every
   * server not deleted, those in ERROR too.
   */
  usageBefore(projectId: string, position: bigint): InstanceUsage {
    let instances = 0;
    let cores = 0;
    let ramMb = 0;
    for (const id of this.liveByProject.get(projectId) ?? []) {
      const booted = this.bootPositions.get(id);
      const state = this.instances.get(id)?.state;
      if (booted === undefined || booted >= position || !state?.boot || state.vmState === 'deleted') continue;
      instances += 1;
      const held = resourcesHeld(state) ?? state.boot.flavor;
      cores += held.vcpus;
      ramMb += held.ramMb;
    }
    return { instances, cores, ramMb };
  }

  private indexBoot(id: string, state: InstanceState, event: StoredEvent): void {
    const projectId = state.boot?.projectId;
    if (projectId === undefined) return;
    if (!(event.data instanceof BootRequested) || event.position === undefined) return;
    this.bootPositions.set(id, event.position.commit);
    const live = this.liveByProject.get(projectId) ?? new Set<string>();
    live.add(id);
    this.liveByProject.set(projectId, live);
  }

  /** Replaces a host's folded state with a fresher one read straight from its stream. */
  refreshHost(name: string, folded: Folded<HostState>): void {
    const current = this.hosts.get(name);
    if (!current || current.revision < folded.revision) this.hosts.set(name, folded);
  }

  refreshInstance(id: string, folded: Folded<InstanceState>): void {
    if (this.deleted.has(id)) return;
    const current = this.instances.get(id);
    if (current && current.revision >= folded.revision) return;
    this.keep(id, folded);
  }

  /** A live server kept; a deleted one forgotten, its boot and project's count with it. */
  private keep(id: string, folded: Folded<InstanceState>): void {
    const { state } = folded;
    if (state.vmState !== 'deleted') {
      this.instances.set(id, folded);
      return;
    }
    this.instances.delete(id);
    this.deleted.set(id, state.updatedAt);
    this.bootPositions.delete(id);
    if (state.boot) this.liveByProject.get(state.boot.projectId)?.delete(id);
  }
}
