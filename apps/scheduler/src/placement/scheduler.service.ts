/**
 * Drives an instance through scheduling, from whatever the store says about it now. Called for
 * every BootRequested, DomainStartFailed and DeleteRequested the bus delivers, and by the
 * reconciler for instances the bus forgot, so it must be idempotent: it folds the instance first
 * and acts only if scheduling work is due.
 *
 * A decision is made on the cluster view, then made safe by the store: the claim is appended to
 * `host-<name>` at the revision the host was folded at (two schedulers cannot both take the last
 * slot), and HostSelected to the instance at the revision it was folded at (one decision per
 * attempt). A lost race means fold again and decide again, a bounded number of times.
 */
import { Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@eventstore/db-client';

import { DomainDeleted, HostSelected, InstanceFailed, build, streamFor } from '#libs/contracts';
import type { ClusterView } from '#libs/cluster-view';
import {
  type InstanceState,
  type Resources,
  QuotaExceeded,
  checkInstanceQuota,
  decideClaim,
  decideRelease,
  hostReducer,
  instanceReducer,
} from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import { type HostCandidate, candidateOf } from '../candidate.js';
import type { HostLiveness } from '../liveness/host-liveness.js';
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

/** Nova's over-quota message when over; not-folded when the view has yet to fold the boot. */
type QuotaRecheck =
  | { readonly kind: 'within' }
  | { readonly kind: 'over'; readonly message: string }
  | { readonly kind: 'not-folded' };

export type DriveOutcome = 'selected' | 'failed' | 'deleted' | 'nothing-to-do';

export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);
  /** One decision per instance at a time in this process; other processes are fenced by revisions. */
  private readonly inFlight = new Map<string, Promise<DriveOutcome>>();
  /** Decision times, for the benchmark and the logs. */
  readonly decisionTimesMs: number[] = [];
  private readonly claimsInFlight = new ClaimsInFlight();

  constructor(
    private readonly store: EventStore,
    private readonly view: ClusterView,
    private readonly liveness: HostLiveness,
    private readonly settings: SchedulerSettings,
  ) {}

  /**
   * What this appends names as its cause the newest event of the instance's stream at decision
   * time (normally the one that triggered it) and carries that event's correlation id, so an
   * audit can follow a request from the API to the host and back.
   */
  drive(instanceId: string): Promise<DriveOutcome> {
    const running = this.inFlight.get(instanceId);
    if (running) return running.then(() => this.drive(instanceId));
    const work = this.driveOnce(instanceId).finally(() => this.inFlight.delete(instanceId));
    this.inFlight.set(instanceId, work);
    return work;
  }

  private async driveOnce(instanceId: string): Promise<DriveOutcome> {
    for (let race = 0; race < RACE_ATTEMPTS; race += 1) {
      const stream = streamFor('instance', instanceId);
      const { state, revision, last } = await this.store.fold(stream, instanceReducer);
      if (!state.exists || revision === null || last === null) return 'nothing-to-do';
      const context: EventContext = {
        correlationId: last.metadata.correlationId,
        causationId: last.metadata.eventId,
        actor: SCHEDULER_ACTOR,
      };
      this.view.refreshInstance(instanceId, { state, revision });
      try {
        if (state.taskState === 'deleting' && state.host === null) {
          return await this.finishUnplacedDelete(state, revision, context);
        }
        if (state.vmState === 'error' || state.vmState === 'deleted') {
          await this.releaseClaims(
            state.id,
            () => false,
            state.vmState === 'deleted' ? 'deleted' : 'failed',
            context,
          );
          return 'nothing-to-do';
        }
        if (state.taskState !== 'scheduling') {
          // Placed: whatever this instance holds anywhere but its host was a lost race or an
          // earlier attempt.
          const host = state.host;
          await this.releaseClaims(state.id, (holder) => holder === host, 'rescheduled', context);
          return 'nothing-to-do';
        }
        const outcome = await this.schedule(state, revision, context);
        if (outcome !== 'retry') return outcome;
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) continue;
        throw error;
      }
    }
    this.logger.warn(
      `instance ${instanceId}: lost ${RACE_ATTEMPTS} races in a row; the reconciler will try again`,
    );
    return 'nothing-to-do';
  }

  /** 'retry' when the world changed under the decision: fold again and decide again. */
  private async schedule(
    state: InstanceState,
    revision: bigint,
    context: EventContext,
  ): Promise<DriveOutcome | 'retry'> {
    const attempt = state.attempt + 1;
    const stream = streamFor('instance', state.id);
    if (attempt > this.settings.maxAttempts) {
      await this.releaseClaims(state.id, () => false, 'failed', context);
      await this.store.append(
        stream,
        [
          build(InstanceFailed, {
            instanceId: state.id,
            fault: {
              code: 500,
              message: `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${state.id}.`,
            },
          }),
        ],
        revision,
        context,
      );
      return 'failed';
    }

    // A claim this attempt already made (before a crash) is reused; older ones are released.
    await this.releaseClaims(state.id, (_host, claimed) => claimed === attempt, 'rescheduled', context);
    const held = this.claimedHost(state.id, attempt);

    if (attempt === 1 && held === null) {
      const quota = await this.recheckQuota(state);
      if (quota.kind === 'not-folded') return 'retry';
      if (quota.kind === 'over') {
        const fault = { code: 403, message: quota.message.slice(0, 255) };
        await this.store.append(
          stream,
          [build(InstanceFailed, { instanceId: state.id, fault })],
          revision,
          context,
        );
        return 'failed';
      }
    }

    const spec = requestSpecOf(state, this.groupHosts(state));
    let selection = this.select(spec);
    let chosen = held;
    for (let round = 1; chosen === null; round += 1) {
      if (selection.kind === 'no-valid-host') {
        await this.store.append(
          stream,
          [
            build(InstanceFailed, {
              instanceId: state.id,
              fault: { code: 500, message: `No valid host was found. ${selection.reason}`.slice(0, 255) },
              trace: selection.trace,
            }),
          ],
          revision,
          context,
        );
        return 'failed';
      }
      chosen = await this.claimFirst(selection.ranked, state.id, attempt, spec.resources, context);
      if (chosen !== null) break;
      // Every host this weighing ranked filled up or changed under it, so other claims landed:
      // weigh again on the hosts as they are now, a bounded number of times.
      if (round === CLAIM_ROUNDS) return 'retry';
      selection = this.select(spec);
    }
    const ranked = selection.kind === 'selected' ? selection.ranked : [];
    // If the instance changed while we decided (a delete, another scheduler), this append fails
    // with WrongExpectedVersion and the next pass decides again; a claim nobody selected is then
    // released there, because it belongs to no attempt in progress.
    await this.store.append(
      stream,
      [
        build(HostSelected, {
          instanceId: state.id,
          attempt,
          host: chosen,
          alternates: ranked.filter((host) => host !== chosen),
          trace: selection.trace,
        }),
      ],
      revision,
      context,
    );
    return 'selected';
  }

  /**
   * Nova's quota recheck. The API checked the project's usage when it accepted the boot, but boots
   * racing for the last slot each saw it free. Counted again in `$all` order, over the servers
   * requested before this one only, exactly the boots that fit pass, whichever scheduler decides
   * them and however often.
   */
  private async recheckQuota(state: InstanceState): Promise<QuotaRecheck> {
    const quota = state.boot?.quota;
    if (!state.boot || !quota) return { kind: 'within' };
    const position = await this.view.whenBootFolded(state.id, BOOT_FOLD_TIMEOUT_MS);
    if (position === undefined) return { kind: 'not-folded' };
    const { vcpus, ramMb } = state.boot.flavor;
    try {
      checkInstanceQuota(quota, this.view.usageBefore(state.boot.projectId, position), {
        vcpus,
        ramMb,
        minCount: 1,
        maxCount: 1,
      });
      return { kind: 'within' };
    } catch (error) {
      if (error instanceof QuotaExceeded) return { kind: 'over', message: error.message };
      throw error;
    }
  }

  private async finishUnplacedDelete(
    state: InstanceState,
    revision: bigint,
    context: EventContext,
  ): Promise<DriveOutcome> {
    await this.releaseClaims(state.id, () => false, 'deleted', context);
    await this.store.append(
      streamFor('instance', state.id),
      [build(DomainDeleted, { instanceId: state.id, host: null })],
      revision,
      context,
    );
    return 'deleted';
  }

  private select(spec: RequestSpec): Selection {
    const started = performance.now();
    const selection = selectHosts(this.candidates(), spec, this.settings.policy);
    this.decisionTimesMs.push(performance.now() - started);
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
    return this.claimsInFlight.claim(host, instanceId, { attempt, ...wanted }, async () => {
      const folded = this.view.host(host);
      if (!folded) return 'full';
      const decision = decideClaim(folded.state, instanceId, attempt, wanted);
      if (decision.kind === 'already-held') return 'claimed';
      if (decision.kind === 'no-capacity') return 'full';
      try {
        const appended = await this.store.append(
          streamFor('host', host),
          decision.events,
          folded.revision,
          context,
        );
        this.view.refreshHost(host, { state: decision.next, revision: appended.nextRevision });
        return 'claimed';
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        await this.refreshHost(host);
        return 'changed';
      }
    });
  }

  /** Releases what this instance holds on any host, except the claims `keep` says to keep. */
  private async releaseClaims(
    instanceId: string,
    keep: (host: string, attempt: number) => boolean,
    reason: 'failed' | 'deleted' | 'rescheduled',
    context: EventContext,
  ): Promise<void> {
    for (const { state } of [...this.view.allHosts()]) {
      const allocation = state.allocations[instanceId];
      if (!allocation || keep(state.name, allocation.attempt)) continue;
      for (let race = 0; race < RACE_ATTEMPTS; race += 1) {
        const folded = this.view.host(state.name);
        if (!folded) break;
        const events = decideRelease(folded.state, instanceId, reason);
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

  private claimedHost(instanceId: string, attempt: number): string | null {
    for (const { state } of this.view.allHosts()) {
      if (state.allocations[instanceId]?.attempt === attempt) return state.name;
    }
    return null;
  }

  private async refreshHost(host: string): Promise<void> {
    const { state, revision } = await this.store.fold(streamFor('host', host), hostReducer);
    if (revision !== null) this.view.refreshHost(host, { state, revision });
  }

  private candidates(): HostCandidate[] {
    const candidates: HostCandidate[] = [];
    for (const { state, revision } of this.view.allHosts()) {
      if (!state.registered) continue;
      const weighed = this.claimsInFlight.overlay(state);
      candidates.push(candidateOf(weighed, revision, this.liveness.isAlive(state.name)));
    }
    return candidates;
  }

  /** Where the other live members of the instance's server group are, or are being built. */
  private groupHosts(state: InstanceState): string[] {
    const group = state.boot?.serverGroup;
    if (!group) return [];
    const hosts = new Set<string>();
    for (const { state: other } of this.view.allInstances()) {
      if (other.id === state.id || other.boot?.serverGroup?.id !== group.id) continue;
      if (other.vmState === 'deleted' || other.vmState === 'error' || other.host === null) continue;
      hosts.add(other.host);
    }
    return [...hosts];
  }
}
