/**
 * Drives each instance placed on this agent's hosts toward what its stream asks for: a build to a
 * running domain, a stop to a shut-off one, a reboot, a rebuild to a domain made anew from another
 * image, a snapshot to an image of its disk in the image service, a delete to nothing at all. Every trigger
 * (an event from the bus, the reconciler's scan, a restart) ends in the same `drive` (the event
 * store's StreamDriver), which folds the stream first and acts only on work that is due, so a
 * redelivered event or a half-done job after a crash is simply done (again, idempotently) or
 * skipped. What is due and what a result means are the domain's decisions (compute-work.ts); this
 * shell does the work on the hypervisor and appends.
 *
 * The result is appended at the revision the work was decided on. If the instance changed in the
 * meantime (a delete while booting), the append loses, the stream is folded again and the new
 * wish is honoured: a domain booted for a server being deleted is destroyed, not left running.
 *
 * The agent acts only on hosts it holds the lease of (`fence`, see host-ownership.ts): a drive for
 * another host's instance is 'not-mine', and every append a drive makes is refused once the lease is
 * no longer held, as the driver's changes to the host are (fenced-driver.ts).
 *
 * Work cut off by the agent's own shutdown is never recorded as the host's failure: `stop()` takes
 * no more work, lets what is under way finish within a grace period, and whatever fails after that
 * (its SSH sessions closing under it) is left as the store says it is, due, for the next agent that
 * serves the host to do again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@eventstore/db-client';

import { type FlavorSnapshot, streamFor } from '#libs/contracts';
import {
  type ComputeResult,
  type ComputeWork,
  type InstanceState,
  computeWorkDue,
  decideComputeResult,
  type FloatingIpState,
  floatingIpReducer,
  instanceReducer,
  type NetworkState,
  networkReducer,
  routerReducer,
  type RouterState,
  securityGroupReducer,
  type SecurityGroupState,
} from '#libs/domain';
import { type DriveTurn, type EventStore, type Reducer, StreamDriver } from '#libs/event-store';
import { inSpan } from '#libs/telemetry';

import {
  type DomainNic,
  type DomainSpec,
  type HypervisorDriver,
  HypervisorError,
  domainNameOf,
  domainSpec,
  type Revisioned,
  floatingIpsNamedOn,
  groupsNamedOn,
  guestNetworkOf,
  guestRoutingOf,
  routersNamedOn,
} from '../hypervisor/index.js';
import { revokeConsoles } from './console-revocation.js';
import { type HostFence, HostNotOwned } from './host-ownership.js';
import { type ImagePublisher, type ImageResolver, ImageServiceUnreachable } from './image-resolver.js';

export interface AgentSettings {
  /** Hosts this agent serves. */
  readonly hosts: readonly string[];
  /** How long a guest gets to shut down before it is destroyed (DomainStopped.forced). */
  readonly powerOffTimeoutMs: number;
  /**
   * How long a build waits for an image service that cannot be reached before it fails (not
   * retryable: another host would wait for the same service); 5 minutes when absent.
   */
  readonly imageServiceWaitMs?: number;
  /** Which of the hosts the agent holds now; all of them when absent (an agent alone on its hosts). */
  readonly fence?: HostFence;
}

export type DriveOutcome = 'done' | 'failed' | 'nothing-to-do' | 'not-mine' | 'interrupted';

/** A drive asked of an agent that is shutting down: the bus redelivers it, to this agent or another. */
export class AgentStopping extends Error {
  override readonly name = 'AgentStopping';
  constructor(instanceId: string) {
    super(`the compute agent is shutting down; ${instanceId} is left for the next one`);
  }
}

/** Who the agent's events say did it: the compute service, whatever part of it appends. */
export const COMPUTE_ACTOR = { userId: 'compute', projectId: null, kind: 'service' } as const;

export class ComputeAgent {
  private readonly logger = new Logger(ComputeAgent.name);
  private readonly driver: StreamDriver<InstanceState, DriveOutcome>;
  private readonly hosts: ReadonlySet<string>;
  private readonly underWay = new Set<Promise<DriveOutcome>>();
  private stopping = false;
  /** How long each build spent inside the driver (image into cache, overlay, define, start), in ms. */
  readonly spawnTimesMs: number[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly hypervisor: HypervisorDriver,
    private readonly images: ImageResolver,
    private readonly settings: AgentSettings,
    /** Where images of servers' disks go; without one, a snapshot fails with a clear reason. */
    private readonly publisher: ImagePublisher | null = null,
  ) {
    this.hosts = new Set(settings.hosts);
    this.driver = new StreamDriver(store, instanceReducer, {
      actor: COMPUTE_ACTOR,
      idle: 'nothing-to-do',
      name: ComputeAgent.name,
    });
  }

  serves(host: string | null): boolean {
    return host !== null && this.hosts.has(host) && (this.settings.fence?.owns(host) ?? true);
  }

  /** Throws HostNotOwned unless the agent serves the host now: the fence of every append it makes. */
  assertServes(host: string): void {
    if (!this.serves(host)) throw new HostNotOwned(host);
  }

  /** One drive per instance at a time in this agent; a second trigger waits and re-checks. */
  drive(instanceId: string): Promise<DriveOutcome> {
    if (this.stopping) return Promise.reject(new AgentStopping(instanceId));
    const drive = this.driver.drive(streamFor('instance', instanceId), (turn) => this.act(turn));
    this.underWay.add(drive);
    const done = (): void => {
      this.underWay.delete(drive);
    };
    drive.then(done, done);
    return drive;
  }

  /**
   * Takes no more work and waits up to `graceMs` for the drives under way; resolves with how many
   * are still running then. Those may fail once the hypervisor connections close: not recorded.
   */
  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.underWay]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    return this.underWay.size;
  }

  isDriving(instanceId: string): boolean {
    return this.driver.isDriving(streamFor('instance', instanceId));
  }

  private async act(drive: DriveTurn<InstanceState>): Promise<DriveOutcome> {
    const { state } = drive;
    if (this.stopping) return 'interrupted';
    if (!state.exists) return 'nothing-to-do';
    const host = state.host;
    if (host === null || !this.serves(host)) return 'not-mine';
    // Every append of this turn is checked against the host's lease right before it is sent.
    const turn = { ...drive, context: { ...drive.context, fence: () => this.assertServes(host) } };
    try {
      return await this.carryOut(turn);
    } catch (error) {
      if (!(error instanceof HostNotOwned)) throw error;
      this.logger.warn(`${state.id}: ${error.message}; nothing more is done here`);
      return 'not-mine';
    }
  }

  private async carryOut(turn: DriveTurn<InstanceState>): Promise<DriveOutcome> {
    const { state } = turn;
    const work = computeWorkDue(state);
    if (work === null) {
      if (!INTERFACE_CHANGES.has(turn.last.type) || state.host === null) return 'nothing-to-do';
      await this.syncNics(state.host, state);
      return 'done';
    }
    if (work.kind === 'spawn') return this.spawn(turn, work);
    if (work.kind === 'snapshot') return this.snapshot(turn, work);
    if ('revoke' in work) await revokeConsoles(this.store, state, work.revoke, turn.context);
    if (work.kind === 'rebuild') return this.rebuild(turn, work);
    if (work.kind === 'resize') return this.resize(turn, work);
    if (work.kind === 'power-on' || work.kind === 'reboot') await this.serveNetworks(work.host, state);
    await this.record(turn, await this.perform(state.id, work));
    return 'done';
  }

  /**
   * The server's NICs on its host brought to what its stream says (an interface attached to it or
   * detached from it, on a running server or a stopped one), and, when one went into a running guest,
   * its network served. Called on the attach or detach itself and by every power sync, which finds a
   * change a crash left half done. Nothing to do for a server not settled on the host.
   */
  async syncNics(host: string, state: InstanceState): Promise<void> {
    if (!NIC_SYNC_STATES.has(state.vmState) || state.taskState !== null) return;
    const { attached, detached } = await this.hypervisor.syncNics(
      host,
      domainNameOf(state.id),
      nicsOf(state),
    );
    if (attached.length === 0 && detached.length === 0) return;
    this.logger.log(
      `NICs of ${state.id} on ${host}: ${attached.length} plugged in, ${detached.length} taken out`,
    );
    if (attached.length > 0 && state.vmState === 'active') await this.serveHostNetworks(host, [state], false);
  }

  /**
   * The DHCP server, metadata proxy and port filters of each network the server has a NIC on, served
   * on its host as the network's stream and its ports' security groups have them now, before the
   * guest starts and asks for its address. After a restart of the hosts' network (an `up` after a
   * `down`) this is what serves it again.
   */
  private async serveNetworks(host: string, state: InstanceState): Promise<void> {
    await this.serveHostNetworks(host, [state], false);
  }

  /**
   * Serves the networks the given servers have NICs on, each once, as the store has them now: their
   * DHCP servers and filters, then their routers. The sweep calls it for the running servers of each
   * host, which is how a security group's, a router's or a floating IP's change reaches the hosts and
   * how a network torn down under a running guest is served again; the host keeps what it has when
   * nothing changed.
   */
  async serveHostNetworks(host: string, states: readonly InstanceState[], refresh = true): Promise<void> {
    const networkIds = new Set(states.flatMap((state) => state.interfaces.map((nic) => nic.networkId)));
    const externals = new Map<string, Revisioned<NetworkState>>();
    const floatingIps = new Map<string, Revisioned<FloatingIpState>>();
    for (const networkId of networkIds) {
      const network = await this.foldNetwork(networkId);
      const groups = new Map<string, SecurityGroupState>();
      for (const groupId of groupsNamedOn(network.state)) {
        const { state: group } = await this.store.fold(streamFor('secgroup', groupId), securityGroupReducer);
        groups.set(groupId, group);
      }
      const served = guestNetworkOf(network.state, network.revision, groups);
      if (served) await this.hypervisor.ensureNetwork(host, served, { refresh });

      const routers = new Map<string, Revisioned<RouterState>>();
      for (const routerId of routersNamedOn(network.state)) {
        const router = await this.foldStream(streamFor('router', routerId), routerReducer);
        routers.set(routerId, router);
        const externalId = router.state.gateway?.networkId;
        if (externalId === undefined || externals.has(externalId)) continue;
        const external = await this.foldNetwork(externalId);
        externals.set(externalId, external);
        for (const floatingIpId of floatingIpsNamedOn(external.state)) {
          floatingIps.set(
            floatingIpId,
            await this.foldStream(streamFor('floatingip', floatingIpId), floatingIpReducer),
          );
        }
      }
      const routing = guestRoutingOf(network, routers, externals, floatingIps);
      await this.hypervisor.ensureRouting(host, routing, { refresh });
    }
  }

  private foldNetwork(networkId: string): Promise<Revisioned<NetworkState>> {
    return this.foldStream(streamFor('network', networkId), networkReducer);
  }

  private async foldStream<S>(stream: string, reducer: Reducer<S>): Promise<Revisioned<S>> {
    const { state, revision } = await this.store.fold(stream, reducer);
    return { state, revision: Number(revision ?? 0n) };
  }

  /** Stop, start, reboot or delete on the host, and what it came to. */
  private async perform(
    instanceId: string,
    work: Exclude<ComputeWork, { kind: 'spawn' | 'snapshot' | 'rebuild' | 'resize' }>,
  ): Promise<ComputeResult> {
    const name = domainNameOf(instanceId);
    const timeoutMs = this.settings.powerOffTimeoutMs;
    switch (work.kind) {
      case 'power-off': {
        const { forced } = await this.hypervisor.powerOff(work.host, name, { timeoutMs });
        return { kind: 'powered-off', forced };
      }
      case 'power-on':
        await this.hypervisor.powerOn(work.host, name);
        return { kind: 'powered-on', domainName: name };
      case 'reboot': {
        const { type } = await this.hypervisor.reboot(work.host, name, work.type, {
          softTimeoutMs: timeoutMs,
        });
        return { kind: 'rebooted', type };
      }
      case 'destroy':
        await this.hypervisor.destroy(work.host, name);
        return { kind: 'destroyed' };
    }
  }

  /** The result appended at the revision the work was decided on. */
  private async record(
    { state, revision, context }: DriveTurn<InstanceState>,
    result: ComputeResult,
  ): Promise<void> {
    const events = decideComputeResult(state, result);
    await this.store.append(streamFor('instance', state.id), events, revision, context);
  }

  /**
   * The domain made anew from the rebuild's image: the image is cached on the host, the old domain and
   * its disk go, and the spawn makes both again (left off if the server was off). Redone from the start
   * after a crash, which is safe: destroy and spawn are idempotent. A failure (the image gone or refused,
   * the host's disk full) destroys whatever is left and records the server in error, as a failed build
   * does; an image service that cannot be reached is waited for, as for a build.
   */
  private async rebuild(
    turn: DriveTurn<InstanceState>,
    work: Extract<ComputeWork, { kind: 'rebuild' }>,
  ): Promise<DriveOutcome> {
    const instanceId = turn.state.id;
    const name = domainNameOf(instanceId);
    try {
      await this.serveNetworks(work.host, turn.state);
      await this.hypervisor.ensureImage(work.host, await this.images.resolve(work.image.id));
      await this.hypervisor.destroy(work.host, name);
      // A resized server is rebuilt with the flavor it has now.
      const spec = specOf(turn.state, turn.state.flavor ?? work.boot.flavor, work.image.id);
      const { domainName } = await this.hypervisor.spawn(work.host, spec);
      // The driver defines and starts in one step: a server that was off is put back off.
      if (!work.running) await this.hypervisor.powerOff(work.host, domainName, { timeoutMs: 0 });
      await this.record(turn, { kind: 'rebuilt', domainName });
      return 'done';
    } catch (error) {
      if (error instanceof WrongExpectedVersionError || error instanceof HostNotOwned) throw error;
      if (this.stopping) return 'interrupted';
      const waitedMs = Date.now() - Date.parse(turn.state.updatedAt ?? '');
      if (
        error instanceof ImageServiceUnreachable &&
        !(waitedMs > (this.settings.imageServiceWaitMs ?? 300_000))
      ) {
        this.logger.warn(`rebuild of ${instanceId} waits for the image service: ${error.message}`);
        return 'interrupted';
      }
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      this.logger.warn(`rebuild of ${instanceId} on ${work.host} failed: ${reason}`);
      await this.hypervisor.destroy(work.host, name).catch(() => undefined);
      await this.record(turn, { kind: 'rebuild-failed', reason });
      return 'failed';
    }
  }

  /**
   * The domain given the vCPUs and memory of the flavor it goes to (or back to): the driver powers it
   * off, changes its definition and starts it again if it was running. Redone after a crash, which is
   * safe: a domain that has the size already is left as it is. A resize that fails puts the old size
   * back, so the server keeps the flavor it had; a revert that fails leaves the server in error.
   */
  private async resize(
    turn: DriveTurn<InstanceState>,
    work: Extract<ComputeWork, { kind: 'resize' }>,
  ): Promise<DriveOutcome> {
    const instanceId = turn.state.id;
    const name = domainNameOf(instanceId);
    const options = { timeoutMs: this.settings.powerOffTimeoutMs, running: work.running };
    try {
      if (work.running) await this.serveNetworks(work.host, turn.state);
      await this.hypervisor.resize(
        work.host,
        name,
        { vcpus: work.vcpus, memoryMib: work.memoryMib },
        options,
      );
      await this.record(turn, { kind: 'resized' });
      return 'done';
    } catch (error) {
      if (error instanceof WrongExpectedVersionError || error instanceof HostNotOwned) throw error;
      if (this.stopping) return 'interrupted';
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      this.logger.warn(`resize of ${instanceId} on ${work.host} failed: ${reason}`);
      const from = turn.state.resize?.from;
      if (!work.revert && from) {
        await this.hypervisor
          .resize(work.host, name, { vcpus: from.vcpus, memoryMib: from.ramMb }, options)
          .catch(() => undefined);
      }
      await this.record(turn, { kind: 'resize-failed', reason });
      return 'failed';
    }
  }

  /**
   * An image of the disk: the driver writes a standalone copy to the agent's machine, the publisher
   * uploads it as the image's data, and the result is recorded. A failure deletes the image (through
   * the image service, when the agent has one) and records why; the server itself is untouched.
   * Redone after a crash: the upload of an image that is already active is skipped.
   */
  private async snapshot(
    turn: DriveTurn<InstanceState>,
    work: Extract<ComputeWork, { kind: 'snapshot' }>,
  ): Promise<DriveOutcome> {
    const instanceId = turn.state.id;
    const folder = await mkdtemp(join(tmpdir(), 'nimbus-snapshot-'));
    try {
      if (!this.publisher) throw new Error('this compute agent has no image service to publish images to');
      const file = join(folder, `${work.imageId}.qcow2`);
      await this.hypervisor.exportDisk(work.host, domainNameOf(instanceId), file);
      await this.publisher.publish(work.imageId, file);
      await this.record(turn, { kind: 'snapshotted' });
      return 'done';
    } catch (error) {
      if (error instanceof WrongExpectedVersionError || error instanceof HostNotOwned) throw error;
      if (this.stopping) return 'interrupted';
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      this.logger.warn(`image ${work.imageId} of ${instanceId} failed: ${reason}`);
      await this.publisher?.discard(work.imageId).catch(() => undefined);
      await this.record(turn, { kind: 'snapshot-failed', reason });
      return 'failed';
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  private async spawn(
    turn: DriveTurn<InstanceState>,
    work: Extract<ComputeWork, { kind: 'spawn' }>,
  ): Promise<DriveOutcome> {
    const { host, boot } = work;
    const instanceId = turn.state.id;
    try {
      const started = performance.now();
      // Which image to fetch is the control plane's business; fetching and starting is the driver's.
      const image = await inSpan('compute.image resolve', () => this.images.resolve(boot.image.id));
      const { domainName } = await inSpan('compute.driver spawn', async () => {
        await this.serveNetworks(host, turn.state);
        await this.hypervisor.ensureImage(host, image);
        return this.hypervisor.spawn(host, specOf(turn.state, boot.flavor, boot.image.id));
      });
      this.spawnTimesMs.push(performance.now() - started);
      if (this.spawnTimesMs.length > 10_000) this.spawnTimesMs.splice(0, 5_000);
      await this.record(turn, { kind: 'spawned', domainName });
      return 'done';
    } catch (error) {
      if (error instanceof WrongExpectedVersionError || error instanceof HostNotOwned) throw error;
      if (this.stopping) {
        this.logger.log(`build of ${instanceId} on ${host} cut off by shutdown; left for the next agent`);
        return 'interrupted';
      }
      const waitedMs = Date.now() - Date.parse(turn.state.updatedAt ?? '');
      const waitMs = this.settings.imageServiceWaitMs ?? 300_000;
      if (error instanceof ImageServiceUnreachable && !(waitedMs > waitMs)) {
        // Neither the image's fault nor the host's: the reconciler tries again while the work is due.
        this.logger.warn(`build of ${instanceId} waits for the image service: ${error.message}`);
        return 'interrupted';
      }
      const retryable =
        error instanceof HypervisorError ? error.retryable : !(error instanceof ImageServiceUnreachable);
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      this.logger.warn(`build of ${instanceId} on ${host} failed: ${reason}`);
      // Nothing of a failed build may stay behind on the host.
      await this.hypervisor.destroy(host, domainNameOf(instanceId)).catch(() => undefined);
      await this.record(turn, { kind: 'spawn-failed', reason, retryable });
      return 'failed';
    }
  }
}

/** The events after which a server's NICs on its host may differ from its stream's. */
const INTERFACE_CHANGES = new Set(['NetworkInterfaceAttached', 'NetworkInterfaceDetached']);

/** Where a server's NICs follow its stream: settled on its host, running or not. */
const NIC_SYNC_STATES = new Set(['active', 'stopped']);

/** A NIC per port of the server. */
function nicsOf(state: InstanceState): DomainNic[] {
  return state.interfaces.map(({ portId, networkId, macAddress }) => ({ portId, networkId, macAddress }));
}

/** The domain a server of this flavor runs as, its root disk made from the image, a NIC per port. */
function specOf(state: InstanceState, flavor: FlavorSnapshot, imageId: string): DomainSpec {
  return domainSpec({
    instanceId: state.id,
    nics: nicsOf(state),
    vcpus: flavor.vcpus,
    memoryMib: flavor.ramMb,
    imageId,
    rootDiskGb: flavor.diskGb,
  });
}
