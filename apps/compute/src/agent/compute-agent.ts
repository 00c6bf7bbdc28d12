/**
 * Drives each instance placed on this agent's hosts toward what its stream asks for: a build to a
 * running domain, a stop to a shut-off one, a reboot, a delete to nothing at all. Every trigger
 * (an event from the bus, the reconciler's scan, a restart) ends in the same `drive`, which folds
 * the stream first and acts only on work that is due, so a redelivered event or a half-done job
 * after a crash is simply done (again, idempotently) or skipped.
 *
 * The result is appended at the revision the work was decided on. If the instance changed in the
 * meantime (a delete while booting), the append loses, the stream is folded again and the new
 * wish is honoured: a domain booted for a server being deleted is destroyed, not left running.
 */
import { Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@eventstore/db-client';

import {
  DomainDeleted,
  DomainRebooted,
  DomainStartFailed,
  DomainStarted,
  DomainStopped,
  build,
  streamFor,
} from '#libs/contracts';
import { type InstanceState, instanceReducer } from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import { type HypervisorDriver, HypervisorError, domainNameOf, domainSpec } from '../hypervisor/index.js';
import { revokeConsoles } from './console-revocation.js';
import type { ImageResolver } from './image-resolver.js';

export interface AgentSettings {
  /** Hosts this agent serves. */
  readonly hosts: readonly string[];
  /** How long a guest gets to shut down before it is destroyed (DomainStopped.forced). */
  readonly powerOffTimeoutMs: number;
}

export type DriveOutcome = 'done' | 'failed' | 'nothing-to-do' | 'not-mine';

const AGENT_ACTOR = { userId: 'compute', projectId: null, kind: 'service' } as const;
const RACE_ATTEMPTS = 5;

export class ComputeAgent {
  private readonly logger = new Logger(ComputeAgent.name);
  private readonly inFlight = new Map<string, Promise<DriveOutcome>>();
  private readonly hosts: ReadonlySet<string>;
  /** How long each build spent inside the driver (image into cache, overlay, define, start), in ms. */
  readonly spawnTimesMs: number[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly driver: HypervisorDriver,
    private readonly images: ImageResolver,
    private readonly settings: AgentSettings,
  ) {
    this.hosts = new Set(settings.hosts);
  }

  serves(host: string | null): boolean {
    return host !== null && this.hosts.has(host);
  }

  /**
   * One drive per instance at a time in this agent; a second trigger waits and re-checks. What it
   * appends names the stream's newest event as its cause and carries its correlation id.
   */
  drive(instanceId: string): Promise<DriveOutcome> {
    const running = this.inFlight.get(instanceId);
    if (running) return running.then(() => this.drive(instanceId));
    const work = this.driveOnce(instanceId).finally(() => this.inFlight.delete(instanceId));
    this.inFlight.set(instanceId, work);
    return work;
  }

  isDriving(instanceId: string): boolean {
    return this.inFlight.has(instanceId);
  }

  private async driveOnce(instanceId: string): Promise<DriveOutcome> {
    const stream = streamFor('instance', instanceId);
    for (let race = 0; race < RACE_ATTEMPTS; race += 1) {
      const { state, revision, last } = await this.store.fold(stream, instanceReducer);
      if (!state.exists || revision === null || last === null) return 'nothing-to-do';
      const context: EventContext = {
        correlationId: last.metadata.correlationId,
        causationId: last.metadata.eventId,
        actor: AGENT_ACTOR,
      };
      if (!this.serves(state.host)) return 'not-mine';
      try {
        return await this.act(state, revision, context);
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) continue;
        throw error;
      }
    }
    this.logger.warn(
      `instance ${instanceId} kept changing under ${RACE_ATTEMPTS} attempts; the reconciler will retry`,
    );
    return 'nothing-to-do';
  }

  private async act(state: InstanceState, revision: bigint, context: EventContext): Promise<DriveOutcome> {
    const host = state.host;
    if (host === null) return 'not-mine';
    const stream = streamFor('instance', state.id);
    const name = domainNameOf(state.id);
    switch (state.taskState) {
      case 'spawning':
        return this.spawn(state, host, revision, context);
      case 'powering-off': {
        await revokeConsoles(this.store, state, 'instance-stopped', context);
        const { forced } = await this.driver.powerOff(host, name, {
          timeoutMs: this.settings.powerOffTimeoutMs,
        });
        await this.store.append(
          stream,
          [build(DomainStopped, { instanceId: state.id, host, forced })],
          revision,
          context,
        );
        return 'done';
      }
      case 'powering-on':
        await this.driver.powerOn(host, name);
        await this.store.append(
          stream,
          [build(DomainStarted, { instanceId: state.id, host, domainName: name, reason: 'start' })],
          revision,
          context,
        );
        return 'done';
      case 'rebooting':
      case 'rebooting_hard': {
        // A soft reboot may end as a hard one, which starts a new VNC server, maybe on another port.
        await revokeConsoles(this.store, state, 'instance-rebooted', context);
        const { type } = await this.driver.reboot(
          host,
          name,
          state.taskState === 'rebooting_hard' ? 'HARD' : 'SOFT',
          {
            softTimeoutMs: this.settings.powerOffTimeoutMs,
          },
        );
        await this.store.append(
          stream,
          [build(DomainRebooted, { instanceId: state.id, host, type })],
          revision,
          context,
        );
        return 'done';
      }
      case 'deleting':
        await revokeConsoles(this.store, state, 'instance-deleted', context);
        await this.driver.destroy(host, name);
        await this.store.append(
          stream,
          [build(DomainDeleted, { instanceId: state.id, host })],
          revision,
          context,
        );
        return 'done';
      default:
        return 'nothing-to-do';
    }
  }

  private async spawn(
    state: InstanceState,
    host: string,
    revision: bigint,
    context: EventContext,
  ): Promise<DriveOutcome> {
    const boot = state.boot;
    if (!boot) return 'nothing-to-do';
    const stream = streamFor('instance', state.id);
    try {
      const started = performance.now();
      await this.driver.ensureImage(host, await this.images.resolve(boot.image.id));
      const { domainName } = await this.driver.spawn(
        host,
        domainSpec({
          instanceId: state.id,
          vcpus: boot.flavor.vcpus,
          memoryMib: boot.flavor.ramMb,
          imageId: boot.image.id,
          rootDiskGb: boot.flavor.diskGb,
        }),
      );
      this.spawnTimesMs.push(performance.now() - started);
      if (this.spawnTimesMs.length > 10_000) this.spawnTimesMs.splice(0, 5_000);
      await this.store.append(
        stream,
        [build(DomainStarted, { instanceId: state.id, host, domainName, reason: 'boot' })],
        revision,
        context,
      );
      return 'done';
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw error;
      const retryable = error instanceof HypervisorError ? error.retryable : true;
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      this.logger.warn(`build of ${state.id} on ${host} failed: ${reason}`);
      // Nothing of a failed build may stay behind on the host.
      await this.driver.destroy(host, domainNameOf(state.id)).catch(() => undefined);
      await this.store.append(
        stream,
        [
          build(DomainStartFailed, {
            instanceId: state.id,
            host,
            attempt: state.attempt,
            reason: reason || 'unknown error',
            retryable,
          }),
        ],
        revision,
        context,
      );
      return 'failed';
    }
  }
}
