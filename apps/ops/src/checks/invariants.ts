/**
 * The invariants the whole store must hold, checked over every event of Nimbus's streams: what
 * `ops verify` reports. Pure: events are fed in `$all` order, the clock is passed in, and the result
 * is a list of violations, each naming the events behind it. Never reads or writes anything itself.
 */
import { parseStreamName, streamOf } from '#libs/contracts';
import {
  type ConsoleState,
  type HostState,
  type InstanceState,
  checkConsole,
  consoleReducer,
  hostReducer,
  instanceReducer,
  serverStatus,
} from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import type { HistoryEntry } from '../reading.js';

export const INVARIANTS = {
  contract: 'every event satisfies its contract',
  folds: "every stream folds: each event belongs to its stream, and a server's stream begins with its boot",
  causation: 'every causation id names an event in the store',
  claimOwner: 'every claim on a host belongs to a server that exists and is not deleted',
  claimPlacement: 'a server at rest holds claims only on its own host',
  activeStarted: 'no server is ACTIVE without a DomainStarted',
  consoleOfDeleted: 'no console token of a deleted server is still valid',
} as const;

export type Invariant = keyof typeof INVARIANTS;

export interface Violation {
  readonly invariant: Invariant;
  readonly stream: string;
  readonly message: string;
  /** `stream@revision` of the events behind it. */
  readonly events: readonly string[];
}

interface Folded<S> {
  state: S;
  last: string;
}

const at = (event: { stream: string; revision: bigint }) => `${event.stream}@${event.revision.toString()}`;

export class StoreAudit {
  private readonly eventIds = new Set<string>();
  private readonly causes: { readonly cause: string; readonly event: string }[] = [];
  private readonly instances = new Map<string, Folded<InstanceState> & { started: boolean }>();
  private readonly hosts = new Map<string, Folded<HostState> & { claims: Map<string, string> }>();
  private readonly consoles = new Map<string, Folded<ConsoleState>>();
  private readonly invalid: Violation[] = [];
  private counted = 0;

  get events(): number {
    return this.counted;
  }

  add(entry: HistoryEntry): void {
    this.counted += 1;
    if (!entry.ok) {
      this.invalid.push({
        invariant: 'contract',
        stream: entry.stream,
        message: `${entry.type} breaks its contract: ${entry.problem}`,
        events: [at(entry)],
      });
      return;
    }
    const { event } = entry;
    this.eventIds.add(event.metadata.eventId);
    if (event.metadata.causationId !== null)
      this.causes.push({ cause: event.metadata.causationId, event: at(event) });
    const misfit = this.misfit(event);
    if (misfit !== null) {
      this.invalid.push({ invariant: 'folds', stream: event.stream, message: misfit, events: [at(event)] });
      return;
    }
    const { category, id } = parseStreamName(event.stream);
    try {
      if (category === 'instance') this.foldInstance(id, event);
      else if (category === 'host') this.foldHost(event);
      else if (category === 'console') this.foldConsole(event);
    } catch (error) {
      this.invalid.push({
        invariant: 'folds',
        stream: event.stream,
        message: `the ${category} fold fails on ${event.type}: ${(error as Error).message}`,
        events: [at(event)],
      });
    }
  }

  /** Why the event cannot be folded into its stream, or null: folds would ignore it, hiding a fault. */
  private misfit(event: StoredEvent): string | null {
    let belongs: string;
    try {
      belongs = streamOf(event.data);
    } catch (error) {
      return `${event.type} names no stream of its own: ${(error as Error).message}`;
    }
    if (belongs !== event.stream) return `${event.type} belongs in ${belongs}, not in ${event.stream}`;
    if (event.revision === 0n && event.stream.startsWith('instance-') && event.type !== 'BootRequested')
      return `the stream begins with ${event.type}, not with the server's BootRequested`;
    return null;
  }

  private foldInstance(id: string, event: StoredEvent): void {
    const folded = this.instances.get(id) ?? { state: instanceReducer.initial(), last: '', started: false };
    folded.state = instanceReducer.evolve(folded.state, event);
    folded.last = at(event);
    if (event.type === 'DomainStarted') folded.started = true;
    this.instances.set(id, folded);
  }

  private foldHost(event: StoredEvent): void {
    const folded = this.hosts.get(event.stream) ?? {
      state: hostReducer.initial(),
      last: '',
      claims: new Map<string, string>(),
    };
    folded.state = hostReducer.evolve(folded.state, event);
    folded.last = at(event);
    // Remember which event made each claim that is still held, to name it in a report.
    const data = event.data as { instanceId?: string };
    if (event.type === 'ResourcesClaimed' && data.instanceId) folded.claims.set(data.instanceId, at(event));
    this.hosts.set(event.stream, folded);
  }

  private foldConsole(event: StoredEvent): void {
    const folded = this.consoles.get(event.stream) ?? { state: consoleReducer.initial(), last: '' };
    folded.state = consoleReducer.evolve(folded.state, event);
    folded.last = at(event);
    this.consoles.set(event.stream, folded);
  }

  violations(now: Date): Violation[] {
    return [
      ...this.invalid,
      ...this.unknownCauses(),
      ...this.claimViolations(),
      ...this.activeWithoutStart(),
      ...this.consolesOfDeleted(now),
    ];
  }

  private *unknownCauses(): Generator<Violation> {
    for (const { cause, event } of this.causes) {
      if (this.eventIds.has(cause)) continue;
      yield {
        invariant: 'causation',
        stream: event.slice(0, event.lastIndexOf('@')),
        message: `caused by event ${cause}, which is not in the store`,
        events: [event],
      };
    }
  }

  private *claimViolations(): Generator<Violation> {
    for (const [stream, host] of this.hosts) {
      for (const instanceId of Object.keys(host.state.allocations)) {
        const claim = host.claims.get(instanceId) ?? host.last;
        const instance = this.instances.get(instanceId);
        if (!instance?.state.exists || instance.state.vmState === 'deleted') {
          yield {
            invariant: 'claimOwner',
            stream,
            message: `${host.state.name} holds a claim for server ${instanceId}, which is ${instance ? 'deleted' : 'unknown'}`,
            events: instance ? [claim, instance.last] : [claim],
          };
          continue;
        }
        const state = instance.state;
        if (state.taskState === null && state.host !== host.state.name) {
          yield {
            invariant: 'claimPlacement',
            stream,
            message: `${host.state.name} holds a claim for server ${instanceId}, which is on ${state.host ?? 'no host'}`,
            events: [claim, instance.last],
          };
        }
      }
    }
  }

  private *activeWithoutStart(): Generator<Violation> {
    for (const [id, instance] of this.instances) {
      if (serverStatus(instance.state) !== 'ACTIVE' || instance.started) continue;
      yield {
        invariant: 'activeStarted',
        stream: `instance-${id}`,
        message: `server ${id} is ACTIVE but its stream has no DomainStarted`,
        events: [instance.last],
      };
    }
  }

  private *consolesOfDeleted(now: Date): Generator<Violation> {
    for (const [stream, folded] of this.consoles) {
      const verdict = checkConsole(folded.state, now);
      if (!verdict.ok) continue;
      const instance = this.instances.get(verdict.instanceId);
      if (instance?.state.exists && instance.state.vmState !== 'deleted') continue;
      yield {
        invariant: 'consoleOfDeleted',
        stream,
        message: `a console token of server ${verdict.instanceId}, which is ${instance ? 'deleted' : 'unknown'}, is valid until ${folded.state.expiresAt}`,
        events: instance ? [folded.last, instance.last] : [folded.last],
      };
    }
  }
}
