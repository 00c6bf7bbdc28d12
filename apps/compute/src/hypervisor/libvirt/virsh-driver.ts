/**
 * The HypervisorDriver that drives libvirt on each host with `virsh` (and `qemu-img`, `df`, `tail`)
 * over one long-lived SSH session per host: Nimbus's counterpart of Nova's LibvirtDriver, speaking
 * virsh instead of the libvirt API so a host needs nothing but sshd and the libvirt client tools.
 * Every operation is written to be repeated safely (a command cut off by a lost connection is run again
 * after reconnecting, and a restarted agent redoes half-done work). This file holds the operations,
 * their checks and one change at a time per domain; the commands on one host and what their failures
 * mean are virsh-host.ts.
 * Must never run a command except as an argument vector through the session (quoted there), never act
 * on a domain whose name is not `nimbus-<uuid>`, and never touch files outside a host's configured
 * image cache and instances folders.
 */
import { stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';

import { REBOOT_TYPES, type PowerState, type RebootType } from '#libs/contracts';
import { SshSession, type SessionStats, type SshSessionOptions } from '#libs/host-ssh';

import { lastLines, MAX_CONSOLE_BYTES } from '../console-output.js';
import {
  assertDomainName,
  assertTimeoutMs,
  domainNameOf,
  instanceIdOf,
  nicChanges,
  tapNameOf,
  validateDomainResources,
  validateDomainSpec,
  validateNics,
  type DomainNic,
  type DomainSpec,
} from '../domain-spec.js';
import {
  DomainConflict,
  DomainNotFound,
  DomainNotRunning,
  ImageNotCached,
  InvalidArgument,
  UnknownHost,
} from '../errors.js';
import {
  isPoweredOff,
  type CachedImage,
  type ConsoleOutputOptions,
  type DestroyResult,
  type DomainResources,
  type ExportedDisk,
  type DomainPowerState,
  type DomainSummary,
  type HostInventory,
  type HypervisorDriver,
  type ImageSource,
  type NicChanges,
  type PowerOffOptions,
  type PowerOffResult,
  type RebootOptions,
  type RebootResult,
  type ResizeOptions,
  type SpawnResult,
  type VncEndpoint,
  type VncTunnels,
} from '../hypervisor-driver.js';
import { validateImageSource } from '../image-source.js';
import { KeyedMutex, SingleFlight } from '#libs/concurrency';
import { renderDomainXml, renderNic } from './domain-xml.js';
import {
  plugNics,
  prepareNics,
  recordNics,
  recordedNics,
  serveNetwork,
  serveRouting,
  unplugNic,
  unplugNics,
} from './guest-nics.js';
import type { GuestNetwork } from '../guest-network.js';
import type { GuestRouting } from '../guest-routing.js';
import { validateHostConfigs, type LibvirtHostConfig } from './host-config.js';
import { cachedImagePath, instancePaths } from './host-layout.js';
import { HostSession } from './host-session.js';
import { ensureCachedImage } from './image-cache.js';
import { fastGet, statIfExists, writeRemoteFile } from './remote-files.js';
import {
  parseDiskFree,
  parseDomainInfo,
  parseDomainList,
  parseDomainStates,
  parseNodeInfo,
  parseVncDisplay,
} from './virsh-output.js';
import { failureKind, VirshHost } from './virsh-host.js';

export interface VirshDriverOptions {
  readonly hosts: readonly LibvirtHostConfig[];
  readonly session?: SshSessionOptions;
  /** Per command, unless the operation sets its own. */
  readonly commandTimeoutMs?: number;
  /** How often power-off and similar waits look at the domain's state. */
  readonly pollIntervalMs?: number;
  /** Nova's wait_soft_reboot_seconds is 120 s. */
  readonly softRebootTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

const GIB_IN_KIB = 1024 * 1024;

export class VirshDriver implements HypervisorDriver, VncTunnels {
  private readonly hosts: ReadonlyMap<string, VirshHost>;
  private readonly imageCopies = new SingleFlight<CachedImage>();
  /** One change at a time per domain; reads (state, listing, console) need no turn. */
  private readonly domainLocks = new KeyedMutex();
  private readonly softRebootTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(options: VirshDriverOptions) {
    const commands = {
      commandTimeoutMs: options.commandTimeoutMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 250,
    };
    this.softRebootTimeoutMs = options.softRebootTimeoutMs ?? 120_000;
    this.log = options.log ?? (() => undefined);
    const sessionOptions = { log: this.log, ...options.session };
    this.hosts = new Map(
      validateHostConfigs(options.hosts).map((config) => [
        config.name,
        new VirshHost(
          config,
          new HostSession(
            new SshSession(
              {
                host: config.name,
                address: config.sshAddress,
                port: config.sshPort,
                username: config.sshUser,
                privateKeyPath: config.privateKeyPath,
                hostKeyFingerprint: config.hostKeyFingerprint,
              },
              sessionOptions,
            ),
          ),
          commands,
        ),
      ]),
    );
  }

  async ensureImage(host: string, image: ImageSource): Promise<CachedImage> {
    const target = this.host(host);
    validateImageSource(image);
    const { value, shared } = await this.imageCopies.run(`${host}/${image.id}`, () =>
      ensureCachedImage(
        target.session,
        target.config,
        image,
        (argv, opts) => target.runOk(argv, opts),
        this.log,
      ),
    );
    return shared ? { ...value, uploaded: false } : value;
  }

  async spawn(host: string, spec: DomainSpec): Promise<SpawnResult> {
    const target = this.host(host);
    validateDomainSpec(spec);
    return this.exclusive(target, spec.name, () => this.spawnDomain(target, spec));
  }

  private async spawnDomain(target: VirshHost, spec: DomainSpec): Promise<SpawnResult> {
    const host = target.config.name;
    const existing = await target.domainUuid(spec.name);
    if (existing !== undefined) {
      if (existing !== spec.instanceId) {
        throw new DomainConflict(`${host} already has a domain ${spec.name} with uuid ${existing}`);
      }
      // A redo after a restart: defined already, so only make sure it runs.
      await this.powerOnDomain(target, spec.name);
      return { domainName: spec.name, created: false };
    }

    const base = cachedImagePath(target.config, spec.imageId);
    const baseStat = await target.session.withSftp(`stat ${base}`, true, (sftp) => statIfExists(sftp, base));
    if (!baseStat) throw new ImageNotCached(host, spec.imageId);
    const paths = instancePaths(target.config, spec.instanceId);
    const sizeArgs = spec.rootDiskGb > 0 ? [`${await target.rootDiskSize(base, spec)}G`] : [];

    try {
      await target.runOk(['mkdir', '-p', '--', paths.dir]);
      // No domain uses this folder (none is defined), so a disk left by an interrupted spawn is redone.
      await target.runOk(['rm', '-f', '--', paths.disk]);
      await target.runOk([
        'qemu-img',
        'create',
        '-q',
        '-f',
        'qcow2',
        '-F',
        'qcow2',
        '-b',
        base,
        paths.disk,
        ...sizeArgs,
      ]);
      const xml = renderDomainXml({
        spec,
        virtType: target.config.virtType,
        diskPath: paths.disk,
        consoleLogPath: paths.consoleLog,
      });
      await target.session.withSftp(`write ${paths.domainXml}`, true, (sftp) =>
        writeRemoteFile(sftp, paths.domainXml, xml, 0o644),
      );
      await recordNics(target, spec.instanceId, spec.nics);
      // Defining the same XML again (a retry after a lost connection) only redefines it.
      await target.virshOk(['define', paths.domainXml], spec.name);
      await this.startDomain(target, spec.name);
    } catch (error) {
      // A spawn either leaves a running domain or nothing: the agent reports the failure and the
      // scheduler may pick another host, so a half-built domain here would be an orphan.
      await this.destroyDomain(target, spec.name, spec.instanceId).catch((cleanup: unknown) => {
        this.log(`${host}: cleaning up after a failed spawn of ${spec.name} failed too: ${String(cleanup)}`);
      });
      throw error;
    }
    return { domainName: spec.name, created: true };
  }

  async ensureNetwork(
    host: string,
    network: GuestNetwork,
    options: { readonly refresh?: boolean } = {},
  ): Promise<void> {
    await serveNetwork(this.host(host), network, options.refresh ?? false);
  }

  async ensureRouting(
    host: string,
    routing: GuestRouting,
    options: { readonly refresh?: boolean } = {},
  ): Promise<void> {
    await serveRouting(this.host(host), routing, options.refresh ?? false);
  }

  async syncNics(host: string, domainName: string, nics: readonly DomainNic[]): Promise<NicChanges> {
    const target = this.host(host);
    const instanceId = assertDomainName(domainName);
    validateNics(nics);
    return this.exclusive(target, domainName, () => this.syncDomainNics(target, instanceId, nics));
  }

  private async syncDomainNics(
    target: VirshHost,
    instanceId: string,
    nics: readonly DomainNic[],
  ): Promise<NicChanges> {
    const domainName = domainNameOf(instanceId);
    const recorded = await recordedNics(target, instanceId);
    const { added, removed } = nicChanges(recorded, nics);
    if (added.length === 0 && removed.length === 0) return { attached: [], detached: [] };
    const state = await target.powerState(domainName);
    if (state === 'absent') return { attached: [], detached: [] };
    const live = state !== 'shutoff' && state !== 'crashed';
    // A NIC already in (or already out of) the definition is not asked for again: a sync cut short
    // by a crash is repeated from the top.
    const defined = await target.virshOk(['dumpxml', '--inactive', domainName], domainName);
    const paths = instancePaths(target.config, instanceId);
    const change = async (verb: 'attach-device' | 'detach-device', nic: DomainNic) => {
      const file = `${paths.dir}/nic-${nic.portId}.xml`;
      const xml = renderNic(nic.macAddress, tapNameOf(nic.portId));
      await target.session.withSftp(`write ${file}`, true, (sftp) => writeRemoteFile(sftp, file, xml, 0o644));
      await target.virshOk([verb, domainName, file, ...(live ? ['--live'] : []), '--config'], domainName);
    };
    for (const nic of removed) {
      if (defined.includes(`'${nic.macAddress}'`)) await change('detach-device', nic);
      await unplugNic(target, instanceId, nic.portId);
    }
    for (const nic of added) {
      if (live) await prepareNics(target, instanceId, [nic]);
      if (!defined.includes(`'${nic.macAddress}'`)) await change('attach-device', nic);
      if (live) await plugNics(target, [nic]);
    }
    await recordNics(target, instanceId, nics);
    return { attached: added.map((nic) => nic.portId), detached: removed.map((nic) => nic.portId) };
  }

  async powerOff(host: string, domainName: string, options: PowerOffOptions): Promise<PowerOffResult> {
    const target = this.host(host);
    assertDomainName(domainName);
    assertTimeoutMs(options.timeoutMs, 'powerOff');
    return this.exclusive(target, domainName, () =>
      this.powerOffDomain(target, domainName, options.timeoutMs),
    );
  }

  private async powerOffDomain(
    target: VirshHost,
    domainName: string,
    timeoutMs: number,
  ): Promise<PowerOffResult> {
    const state = await target.existingState(domainName);
    if (isPoweredOff(state)) return { forced: false };
    if (timeoutMs > 0 && state !== 'paused') {
      const asked = await target.virsh(['shutdown', '--mode', 'acpi', domainName]);
      const kind = failureKind(asked);
      if (kind === 'not-running') return { forced: false };
      // Any other refusal (no ACPI, say) leaves destroying as the only way, as in Nova.
      if (kind === undefined && (await target.waitUntilOff(domainName, timeoutMs))) {
        return { forced: false };
      }
    }
    const destroyed = await target.virsh(['destroy', domainName]);
    const kind = failureKind(destroyed);
    if (kind === 'not-running') return { forced: false }; // it went down on its own just now
    if (kind !== undefined) throw target.commandError(destroyed);
    return { forced: true };
  }

  async powerOn(host: string, domainName: string): Promise<void> {
    const target = this.host(host);
    assertDomainName(domainName);
    await this.exclusive(target, domainName, () => this.powerOnDomain(target, domainName));
  }

  private async powerOnDomain(target: VirshHost, domainName: string): Promise<void> {
    const state = await target.existingState(domainName);
    if (state === 'running' || state === 'shutdown' || state === 'paused') {
      // Running already (a redo after a restart): its NICs are wired again, which is safe to repeat.
      await plugNics(target, await recordedNics(target, assertDomainName(domainName)));
      if (state === 'paused') await target.virshOk(['resume', domainName], domainName);
      return;
    }
    await this.startDomain(target, domainName);
  }

  /** Starts a defined domain with its NICs: their taps made before QEMU opens them, on their bridges after. */
  private async startDomain(target: VirshHost, domainName: string): Promise<void> {
    const instanceId = assertDomainName(domainName);
    const nics = await recordedNics(target, instanceId);
    await prepareNics(target, instanceId, nics);
    await target.start(domainName);
    await plugNics(target, nics);
  }

  async reboot(
    host: string,
    domainName: string,
    type: RebootType,
    options: RebootOptions = {},
  ): Promise<RebootResult> {
    const target = this.host(host);
    assertDomainName(domainName);
    if (!REBOOT_TYPES.includes(type)) throw new InvalidArgument('reboot type must be SOFT or HARD');
    const softTimeoutMs = options.softTimeoutMs ?? this.softRebootTimeoutMs;
    return this.exclusive(target, domainName, () =>
      this.rebootDomain(target, domainName, type, softTimeoutMs),
    );
  }

  private async rebootDomain(
    target: VirshHost,
    domainName: string,
    type: RebootType,
    softTimeoutMs: number,
  ): Promise<RebootResult> {
    const state = await target.existingState(domainName);
    // A guest that is not running cannot act on a request: Nova reboots it HARD too.
    if (type === 'SOFT' && state === 'running') {
      if (await target.softReboot(domainName, softTimeoutMs)) {
        return { type: 'SOFT' };
      }
      this.log(`${target.config.name}: ${domainName} did not reboot on request; rebooting it HARD`);
    }
    if (!isPoweredOff(state)) await target.destroyIfRunning(domainName);
    await this.startDomain(target, domainName);
    return { type: 'HARD' };
  }

  /**
   * The new size is written into the domain's persistent definition (`--config`) while it is off, in
   * the order libvirt accepts: a growing value raises its maximum first, a shrinking one lowers the
   * current value first.
   */
  async resize(
    host: string,
    domainName: string,
    size: DomainResources,
    options: ResizeOptions,
  ): Promise<void> {
    const target = this.host(host);
    assertDomainName(domainName);
    validateDomainResources(size);
    assertTimeoutMs(options.timeoutMs, 'resize');
    await this.exclusive(target, domainName, async () => {
      const current = parseDomainInfo(await target.virshOk(['dominfo', domainName], domainName));
      if (current.vcpus !== size.vcpus || current.memoryMib !== size.memoryMib) {
        await this.powerOffDomain(target, domainName, options.timeoutMs);
        const kib = String(size.memoryMib * 1024);
        const cpus = String(size.vcpus);
        const memory = [
          ['setmaxmem', domainName, kib, '--config'],
          ['setmem', domainName, kib, '--config'],
        ];
        const vcpus = [
          ['setvcpus', domainName, cpus, '--config', '--maximum'],
          ['setvcpus', domainName, cpus, '--config'],
        ];
        if (size.memoryMib < current.memoryMib) memory.reverse();
        if (size.vcpus < current.vcpus) vcpus.reverse();
        for (const args of [...memory, ...vcpus]) await target.virshOk(args, domainName);
      }
      if (options.running) await this.powerOnDomain(target, domainName);
      else await this.powerOffDomain(target, domainName, options.timeoutMs);
    });
  }

  async domainResources(host: string, domainName: string): Promise<DomainResources> {
    const target = this.host(host);
    assertDomainName(domainName);
    return parseDomainInfo(await target.virshOk(['dominfo', domainName], domainName));
  }

  /**
   * `qemu-img convert` flattens the overlay and its base into one qcow2 in the instance's folder (read
   * with shared locks, so a running domain is copied as it runs), SFTP brings it to the agent, and the
   * host's copy is removed, also when the transfer fails.
   */
  async exportDisk(host: string, domainName: string, destination: string): Promise<ExportedDisk> {
    const target = this.host(host);
    const instanceId = assertDomainName(domainName);
    return this.exclusive(target, domainName, async () => {
      if ((await target.domainUuid(domainName)) === undefined) {
        throw new DomainNotFound(target.config.name, domainName);
      }
      const paths = instancePaths(target.config, instanceId);
      const copy = `${paths.dir}/export.qcow2`;
      try {
        await target.runOk(['qemu-img', 'convert', '-U', '-f', 'qcow2', '-O', 'qcow2', paths.disk, copy], {
          timeoutMs: 600_000,
        });
        await target.session.withSftp(`download of ${copy}`, true, (sftp) =>
          fastGet(sftp, copy, destination),
        );
      } finally {
        await target.runOk(['rm', '-f', '--', copy]).catch(() => undefined);
      }
      return { sizeBytes: (await stat(destination)).size };
    });
  }

  async destroy(host: string, domainName: string): Promise<DestroyResult> {
    const target = this.host(host);
    const instanceId = assertDomainName(domainName);
    return this.exclusive(target, domainName, () => this.destroyDomain(target, domainName, instanceId));
  }

  private async destroyDomain(
    target: VirshHost,
    domainName: string,
    instanceId: string,
  ): Promise<DestroyResult> {
    const state = await target.powerState(domainName);
    if (state !== 'absent') {
      if (!isPoweredOff(state)) await target.destroyIfRunning(domainName);
      const undefinedResult = await target.virsh([
        'undefine',
        '--managed-save',
        '--snapshots-metadata',
        '--nvram',
        domainName,
      ]);
      const kind = failureKind(undefinedResult);
      if (kind !== undefined && kind !== 'domain-not-found') throw target.commandError(undefinedResult);
    }
    // Also when the domain was absent: a spawn interrupted before `define` leaves a folder and taps behind.
    await unplugNics(target, instanceId);
    await target.runOk(['rm', '-rf', '--', instancePaths(target.config, instanceId).dir]);
    return { existed: state !== 'absent' };
  }

  async powerState(host: string, domainName: string): Promise<DomainPowerState> {
    const target = this.host(host);
    assertDomainName(domainName);
    return target.powerState(domainName);
  }

  async listDomains(host: string): Promise<readonly DomainSummary[]> {
    const target = this.host(host);
    const listed = parseDomainList(await target.virshOk(['list', '--all', '--uuid', '--name']));
    const states =
      listed.length === 0
        ? new Map<string, PowerState>()
        : parseDomainStates(await target.virshOk(['domstats', '--state']));
    // A domain defined or undefined between the two commands is missing from one of them; it is left
    // out now and seen by the next listing.
    return listed.flatMap(({ uuid, name }) => {
      const powerState = states.get(name);
      if (powerState === undefined) return [];
      const instanceId = instanceIdOf(name);
      return [{ name, uuid, instanceId: instanceId === uuid ? instanceId : null, powerState }];
    });
  }

  async vncEndpoint(host: string, domainName: string): Promise<VncEndpoint> {
    const target = this.host(host);
    assertDomainName(domainName);
    const result = await target.virsh(['domdisplay', '--type', 'vnc', domainName]);
    const kind = failureKind(result);
    if (kind === 'domain-not-found') throw new DomainNotFound(target.config.name, domainName);
    if (kind === 'not-running') throw new DomainNotRunning(target.config.name, domainName);
    if (kind !== undefined) throw target.commandError(result);
    if (result.stdout.trim() === '') throw new DomainNotRunning(target.config.name, domainName);
    return parseVncDisplay(result.stdout);
  }

  async consoleOutput(host: string, domainName: string, options: ConsoleOutputOptions = {}): Promise<string> {
    const target = this.host(host);
    const instanceId = assertDomainName(domainName);
    const length = options.length;
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      throw new InvalidArgument('console output length must be a non-negative integer');
    }
    if ((await target.domainUuid(domainName)) === undefined) {
      throw new DomainNotFound(target.config.name, domainName);
    }
    const log = instancePaths(target.config, instanceId).consoleLog;
    const tail = await target.run(['tail', '-c', String(MAX_CONSOLE_BYTES), '--', log]);
    if (tail.exitCode !== 0) {
      if (/No such file/.test(tail.stderr)) return ''; // defined, never started: nothing printed yet
      throw target.commandError(tail);
    }
    return lastLines(tail.stdout, Buffer.byteLength(tail.stdout) >= MAX_CONSOLE_BYTES, length);
  }

  async inventory(host: string): Promise<HostInventory> {
    const target = this.host(host);
    const node = parseNodeInfo(await target.virshOk(['nodeinfo']));
    const disk = parseDiskFree(await target.runOk(['df', '-P', '-k', '--', target.config.instancesDir]));
    return {
      vcpus: node.vcpus,
      memoryMib: Math.floor(node.memoryKib / 1024),
      diskGbTotal: Math.floor(disk.totalKib / GIB_IN_KIB),
      diskGbFree: Math.floor(disk.availableKib / GIB_IN_KIB),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.session.close()));
  }

  /**
   * A TCP stream to the domain's VNC server through this host's SSH session: what the console path
   * uses, never a listener on the host's public addresses.
   */
  async openVncTunnel(host: string, endpoint: VncEndpoint): Promise<Duplex> {
    const target = this.host(host);
    const address: string = endpoint.address; // typed, but it may come off the wire
    if (
      address !== '127.0.0.1' ||
      !Number.isInteger(endpoint.port) ||
      endpoint.port < 1 ||
      endpoint.port > 65535
    ) {
      throw new InvalidArgument('a VNC tunnel goes to a port on the host loopback only');
    }
    return target.session.forwardOut(endpoint.address, endpoint.port);
  }

  /** The SSH session's counters, for health reporting and tests. */
  sessionStats(host: string): SessionStats {
    return this.host(host).session.stats();
  }

  private exclusive<T>(target: VirshHost, domainName: string, task: () => Promise<T>): Promise<T> {
    return this.domainLocks.run(`${target.config.name}/${domainName}`, task);
  }

  private host(name: string): VirshHost {
    const host = typeof name === 'string' ? this.hosts.get(name) : undefined;
    if (!host) throw new UnknownHost(name);
    return host;
  }
}
