/**
 * An in-memory read model of every instance and host, folded with the domain's own reducers from a
 * `$all` subscription. The scheduler reads hosts and server-group placements from it, the compute
 * agent the instances on its hosts, and both reconcilers scan it for work the bus never delivered.
 * It is rebuilt from the store on start; decisions taken from it still append with the revision it
 * folded, so a lagging view can cause a retry, never a wrong write.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';

import { parseStreamName } from '#libs/contracts';
import { type HostState, type InstanceState, hostReducer, instanceReducer } from '#libs/domain';
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

  instance(id: string): Folded<InstanceState> | undefined {
    return this.instances.get(id);
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
    if (category === 'instance') {
      const current = this.instances.get(id);
      if (current && current.revision >= event.revision) return;
      this.instances.set(id, {
        state: instanceReducer.evolve(current?.state ?? instanceReducer.initial(), event),
        revision: event.revision,
      });
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

  /** Replaces a host's folded state with a fresher one read straight from its stream. */
  refreshHost(name: string, folded: Folded<HostState>): void {
    const current = this.hosts.get(name);
    if (!current || current.revision < folded.revision) this.hosts.set(name, folded);
  }

  refreshInstance(id: string, folded: Folded<InstanceState>): void {
    const current = this.instances.get(id);
    if (!current || current.revision < folded.revision) this.instances.set(id, folded);
  }
}
