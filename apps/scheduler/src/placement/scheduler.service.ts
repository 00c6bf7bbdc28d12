/**
 * Drives an instance through scheduling, from whatever the store says about it now. Called for
 * every BootRequested, DomainStartFailed and DeleteRequested the bus delivers, and by the
 * reconciler for instances the bus forgot, so it must be idempotent: it folds the instance first
 * and acts only if scheduling work is due.
 *
 * A decision is made on the cluster view, then made safe by the store: the claim is appended to
 * `host-<name>` at the revision the host was folded at (two schedulers cannot both take the last
 * slot), and HostSelected to the instance at the revision it was folded at (one decision per
 * attempt). A lost race means fold again and decide again, a bounded number of times: the event
 * store's StreamDriver runs that loop. What is due, which claims go, the quota recheck and what a
 * placement appends are the domain's decisions (scheduling.ts); this shell weighs, claims, appends.
 */
import { WrongExpectedVersionError } from '@eventstore/db-client';

import { streamFor } from '#libs/contracts';
import type { ClusterView } from '#libs/cluster-view';
import {
  type Allocation,
  type ClaimDecision,
  type HeldClaim,
  type HostState,
  type InstanceState,
  type PlacementOutcome,
  type ReleaseRule,
  type Resources,
  type SchedulingWork,
  decideClaim,
  decideClaimSize,
  decidePlacement,
  decideQuotaRecheck,
  decideRelease,
  decideReleasePort,
  hostReducer,
  instanceReducer,
  networkReducer,
  mustRelease,
  schedulingWorkDue,
  serverGroupHosts,
} from '#libs/domain';
import {
  DRIVE_AGAIN,
  type DriveTurn,
  type EventContext,
  type EventStore,
  StreamDriver,
} from '#libs/event-store';
import type { HostLiveness } from '#libs/bus';
import { recordSpan } from '#libs/telemetry';

import { type HostCandidate, candidateOf } from '../candidate.js';
import { type RequestSpec, requestSpecOf } from '../request-spec.js';
import { type SchedulingPolicy, type Selection, selectHosts } from '../select-hosts.js';
import { ClaimsInFlight } from './claims-in-flight.js';

export interface SchedulerSettings {
  readonly policy: SchedulingPolicy;
  /** Build attempts before an instance goes to ERROR (Nova's max_attempts). */
  readonly maxAttempts: number;
}

/** How often one decision may lose a race for the instance, or for a host, before it starts over. */
const RACE_ATTEMPTS = 5;
/**
 * How often one decision weighs again because the hosts it ranked changed under it. Each round
 * lost is another decision's claim landing, so this bounds waiting behind a burst, not livelock.
 */
const CLAIM_ROUNDS = 20;

/** How long a quota recheck waits for the view to fold the boot it checks. */
const BOOT_FOLD_TIMEOUT_MS = 5_000;

const SCHEDULER_ACTOR = { userId: 'scheduler', projectId: null, kind: 'service' } as const;

export type DriveOutcome = 'selected' | 'failed' | 'deleted' | 'nothing-to-do';

export class SchedulerService {
  /** One decision per instance at a time in this process; other processes are fenced by revisions. */
  private readonly driver: StreamDriver<InstanceState, DriveOutcome>;
  /** Decision times, for the benchmark and the logs. */
  readonly decisionTimesMs: number[] = [];
  private readonly claimsInFlight = new ClaimsInFlight();

  constructor(
    private readonly store: EventStore,
    private readonly view: ClusterView,
    private readonly liveness: HostLiveness,
    private readonly settings: SchedulerSettings,
  ) {
    this.driver = new StreamDriver(store, instanceReducer, {
      actor: SCHEDULER_ACTOR,
      idle: 'nothing-to-do',
      attempts: RACE_ATTEMPTS,
      name: SchedulerService.name,
    });
  }

  /**
   * What this appends names as its cause the newest event of the instance's stream at decision
   * time (normally the one that triggered it) and carries that event's correlation id, so an
   * audit can follow a request from the API to the host and back.
   */
  drive(instanceId: string): Promise<DriveOutcome> {
    return this.driver.drive(streamFor('instance', instanceId), (turn) => this.decide(turn));
  }

  /** DRIVE_AGAIN when the world changed under the decision: fold again and decide again. */
  private async decide(turn: DriveTurn<InstanceState>): Promise<DriveOutcome | typeof DRIVE_AGAIN> {
    const { state, revision, context } = turn;
    if (!state.exists) return 'nothing-to-do';
    this.view.refreshInstance(state.id, { state, revision });
    const work = schedulingWorkDue(state, this.holdings(state.id), this.settings.maxAttempts);
    await this.releaseClaims(state.id, work.release, context);
    const stream = streamFor('instance', state.id);
    switch (work.kind) {
      case 'release':
        if (state.vmState === 'deleted') await this.releasePorts(state, context);
        return 'nothing-to-do';
      case 'fit-claim':
        return this.fitClaim(turn, work);
      case 'finish-delete':
        await this.store.append(stream, work.events, revision, context);
        return 'deleted';
      case 'give-up':
        await this.store.append(stream, work.events, revision, context);
        return 'failed';
      case 'schedule':
        return this.schedule(turn, work);
    }
  }

  private async schedule(
    { state, revision, context }: DriveTurn<InstanceState>,
    work: Extract<SchedulingWork, { kind: 'schedule' }>,
  ): Promise<DriveOutcome | typeof DRIVE_AGAIN> {
    const stream = streamFor('instance', state.id);
    const boot = state.boot;
    if (work.recheckQuota && boot) {
      const position = await this.view.whenBootFolded(state.id, BOOT_FOLD_TIMEOUT_MS);
      if (position === undefined) return DRIVE_AGAIN;
      const refused = decideQuotaRecheck(state, this.view.usageBefore(boot.projectId, position));
      if (refused.length > 0) {
        await this.store.append(stream, refused, revision, context);
        return 'failed';
      }
    }
    const outcome = await this.place(state, work.attempt, work.held, context);
    if (outcome === null) return DRIVE_AGAIN;
    // If the instance changed while we decided (a delete, another scheduler), this append fails
    // with WrongExpectedVersion and the next pass decides again; a claim nobody selected is then
    // released there, because it belongs to no attempt in progress.
    await this.store.append(stream, decidePlacement(state, work.attempt, outcome), revision, context);
    return outcome.kind === 'claimed' ? 'selected' : 'failed';
  }

  /**
   * Sizes the instance's claim on its own host (a resize is done there): grown to the larger flavor
   * before the compute agent resizes, shrunk to the one kept once the user confirms or reverts. A
   * resize the host has no room for fails as Nova's does, with the server as it was.
   */
  private async fitClaim(
    { state, revision, context }: DriveTurn<InstanceState>,
    work: Extract<SchedulingWork, { kind: 'fit-claim' }>,
  ): Promise<DriveOutcome | typeof DRIVE_AGAIN> {
    const stream = streamFor('instance', state.id);
    const outcome = await this.claimWith(
      work.host,
      state.id,
      { attempt: 0, ...work.wanted },
      (host) => decideClaimSize(host, state.id, work.wanted),
      context,
    );
    if (outcome.kind === 'changed') return DRIVE_AGAIN;
    if (work.resize === null) return 'nothing-to-do';
    if (outcome.kind === 'claimed') {
      await this.store.append(stream, work.resize.claimed, revision, context);
      return 'selected';
    }
    const { free } = outcome;
    const reason =
      free === null
        ? `No valid host was found. Host ${work.host} is unknown.`
        : `No valid host was found. Host ${work.host} has room for ${free.vcpus} vCPUs, ` +
          `${free.ramMb} MiB of memory and ${free.diskGb} GiB of disk besides this server.`;
    await this.store.append(stream, work.resize.refused(reason), revision, context);
    return 'failed';
  }

  /**
   * Weighs the hosts and claims the best one that still has room, or reuses the claim the attempt
   * holds; null when every weighing lost to other claims for CLAIM_ROUNDS rounds.
   */
  private async place(
    state: InstanceState,
    attempt: number,
    held: string | null,
    context: EventContext,
  ): Promise<PlacementOutcome | null> {
    const spec = requestSpecOf(state, serverGroupHosts(state, this.instanceStates()));
    let selection = this.select(spec);
    let chosen = held;
    for (let round = 1; chosen === null; round += 1) {
      if (selection.kind === 'no-valid-host') return selection;
      chosen = await this.claimFirst(selection.ranked, state.id, attempt, spec.resources, context);
      if (chosen !== null) break;
      // Every host this weighing ranked filled up or changed under it, so other claims landed:
      // weigh again on the hosts as they are now, a bounded number of times.
      if (round === CLAIM_ROUNDS) return null;
      selection = this.select(spec);
    }
    const ranked = selection.kind === 'selected' ? selection.ranked : [];
    return { kind: 'claimed', host: chosen, ranked, trace: selection.trace };
  }

  private select(spec: RequestSpec): Selection {
    const started = performance.now();
    const selection = selectHosts(this.candidates(), spec, this.settings.policy);
    this.decisionTimesMs.push(performance.now() - started);
    recordSpan('scheduler.decide', performance.timeOrigin + started);
    if (this.decisionTimesMs.length > 10_000) this.decisionTimesMs.splice(0, 5_000);
    return selection;
  }

  /** The first ranked host a claim lands on; null when the weighing is out of date. */
  private async claimFirst(
    ranked: readonly string[],
    instanceId: string,
    attempt: number,
    wanted: Resources,
    context: EventContext,
  ): Promise<string | null> {
    for (const host of ranked) {
      const claimed = await this.claim(host, instanceId, attempt, wanted, context);
      if (claimed === 'claimed') return host;
      // The host changed since the weighing: it may no longer be the best one.
      if (claimed === 'changed') return null;
    }
    return null;
  }

  /**
   * Claims on one host at the revision the view folded it at. The claim goes into the view as soon
   * as it is appended, so the next decision here weighs the host with it even before the
   * subscription delivers it (Nova's scheduler consumes from its host states the same way). When
   * the host changed meanwhile (a concurrent decision took it), the host is folded afresh and the
   * caller weighs again rather than piling onto the host that was best a moment ago.
   */
  private async claim(
    host: string,
    instanceId: string,
    attempt: number,
    wanted: Resources,
    context: EventContext,
  ): Promise<'claimed' | 'full' | 'changed'> {
    const outcome = await this.claimWith(
      host,
      instanceId,
      { attempt, ...wanted },
      (folded) => decideClaim(folded, instanceId, attempt, wanted),
      context,
    );
    return outcome.kind;
  }

  /**
   * Appends what `decide` makes of the host as the view folded it, at that revision, counting
   * `allocation` as taken while the append is on its way: claimed (or held already), full (with the
   * room the host has, null when the view does not know the host), or changed under the decision.
   */
  private async claimWith(
    host: string,
    instanceId: string,
    allocation: Allocation,
    decide: (folded: HostState) => ClaimDecision,
    context: EventContext,
  ): Promise<
    | { readonly kind: 'claimed' }
    | { readonly kind: 'full'; readonly free: Resources | null }
    | { readonly kind: 'changed' }
  > {
    return this.claimsInFlight.claim(host, instanceId, allocation, async () => {
      const folded = this.view.host(host);
      if (!folded) return { kind: 'full', free: null };
      const decision = decide(folded.state);
      if (decision.kind === 'already-held') return { kind: 'claimed' };
      if (decision.kind === 'no-capacity') return { kind: 'full', free: decision.free };
      try {
        const appended = await this.store.append(
          streamFor('host', host),
          decision.events,
          folded.revision,
          context,
        );
        this.view.refreshHost(host, { state: decision.next, revision: appended.nextRevision });
        return { kind: 'claimed' };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        await this.refreshHost(host);
        return { kind: 'changed' };
      }
    });
  }

  /** Releases what this instance holds on any host, except the claims the rule keeps. */
  private async releaseClaims(instanceId: string, rule: ReleaseRule, context: EventContext): Promise<void> {
    for (const { state } of [...this.view.allHosts()]) {
      const allocation = state.allocations[instanceId];
      if (!allocation || !mustRelease(rule, { host: state.name, attempt: allocation.attempt })) continue;
      for (let race = 0; race < RACE_ATTEMPTS; race += 1) {
        const folded = this.view.host(state.name);
        if (!folded) break;
        const events = decideRelease(folded.state, instanceId, rule.reason);
        if (events.length === 0) break;
        try {
          await this.store.append(streamFor('host', state.name), events, folded.revision, context);
          break;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          await this.refreshHost(state.name);
        }
      }
    }
  }

  /**
   * Ports end with the instance, as its claims do: once its domain is gone each NIC's port is deleted,
   * or unbound when the user brought it (Nova's deallocate_for_instance). Each is one decision on its
   * network's stream, so a release retried after a crash or a redelivery changes nothing more.
   */
  private async releasePorts(state: InstanceState, context: EventContext): Promise<void> {
    for (const nic of state.interfaces) {
      await this.store.execute(
        streamFor('network', nic.networkId),
        networkReducer,
        (network) => decideReleasePort(network, nic.portId, state.id, nic.preserveOnDelete),
        context,
      );
    }
  }

  /** The claims this instance holds, by host and attempt, as the view has them. */
  private holdings(instanceId: string): HeldClaim[] {
    const held: HeldClaim[] = [];
    for (const { state } of this.view.allHosts()) {
      const allocation = state.allocations[instanceId];
      if (allocation) held.push({ host: state.name, attempt: allocation.attempt });
    }
    return held;
  }

  /**
   * The host folded on from where the view has it, reading only the events after that: a host's
   * stream keeps every claim and release it ever had, so a fold from the start grows with its age.
   */
  private async refreshHost(host: string): Promise<void> {
    const stream = streamFor('host', host);
    const { state, revision } = await this.store.fold(stream, hostReducer, {}, this.view.host(host));
    if (revision !== null) this.view.refreshHost(host, { state, revision });
  }

  private candidates(): HostCandidate[] {
    const candidates: HostCandidate[] = [];
    for (const { state, revision } of this.view.allHosts()) {
      if (!state.registered) continue;
      const weighed = this.claimsInFlight.overlay(state);
      candidates.push(candidateOf(weighed, revision, this.liveness.isUp(state.name)));
    }
    return candidates;
  }

  private *instanceStates(): Iterable<InstanceState> {
    for (const { state } of this.view.allInstances()) yield state;
  }
}
