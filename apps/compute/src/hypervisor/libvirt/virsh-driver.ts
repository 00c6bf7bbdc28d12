/**
 * The HypervisorDriver that drives libvirt on each host with `virsh` (and `qemu-img`, `df`, `tail`)
 * over one long-lived SSH session per host: Nimbus's counterpart of Nova's LibvirtDriver, speaking
 * virsh instead of the libvirt API so a host needs nothing but sshd and the libvirt client tools.
 * Every operation is written to be repeated safely (a command cut off by a lost connection is run again
 * after reconnecting, and a restarted agent redoes half-done work).
 * Must never run a command except as an argument vector through the session (quoted there), never act
 * on a domain whose name is not `nimbus-<uuid>`, and never touch files outside a host's configured
 * image cache and instances folders.
 */
import type { Duplex } from 'node:stream';

import { REBOOT_TYPES, type PowerState, type RebootType } from '#libs/contracts';
import { SshSession, type ExecResult, type SessionStats, type SshSessionOptions } from '#libs/host-ssh';

import { lastLines, MAX_CONSOLE_BYTES } from '../console-output.js';
import { assertDomainName, instanceIdOf, validateDomainSpec, type DomainSpec } from '../domain-spec.js';
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
  type DomainPowerState,
  type DomainSummary,
  type HostInventory,
  type HypervisorDriver,
  type ImageSource,
  type PowerOffOptions,
  type PowerOffResult,
  type RebootOptions,
  type RebootResult,
  type SpawnResult,
  type VncEndpoint,
  type VncTunnels,
} from '../hypervisor-driver.js';
import { validateImageSource } from '../image-source.js';
import { KeyedMutex, SingleFlight } from '#libs/concurrency';
import { renderDomainXml } from './domain-xml.js';
import { CommandFailed, virshErrorKind, type VirshErrorKind } from './errors.js';
import { validateHostConfigs, type LibvirtHostConfig } from './host-config.js';
import { cachedImagePath, instancePaths } from './host-layout.js';
import { HostSession } from './host-session.js';
import { ensureCachedImage } from './image-cache.js';
import { powerStateFromVirsh } from './power-state.js';
import { statIfExists, writeRemoteFile } from './remote-files.js';
import {
  eventsReceived,
  parseDiskFree,
  parseDomainList,
  parseDomainStates,
  parseNodeInfo,
  parseQemuImgInfo,
  parseVncDisplay,
} from './virsh-output.js';

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

interface Host {
  readonly config: LibvirtHostConfig;
  readonly session: HostSession;
}

export class VirshDriver implements HypervisorDriver, VncTunnels {
  private readonly hosts: ReadonlyMap<string, Host>;
  private readonly imageCopies = new SingleFlight<CachedImage>();
  /** One change at a time per domain; reads (state, listing, console) need no turn. */
  private readonly domainLocks = new KeyedMutex();
  private readonly commandTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly softRebootTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(options: VirshDriverOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.softRebootTimeoutMs = options.softRebootTimeoutMs ?? 120_000;
    this.log = options.log ?? (() => undefined);
    const sessionOptions = { log: this.log, ...options.session };
    this.hosts = new Map(
      validateHostConfigs(options.hosts).map((config) => [
        config.name,
        {
          config,
          session: new HostSession(
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
        },
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
        (argv, opts) => this.runOk(target, argv, opts),
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

  private async spawnDomain(target: Host, spec: DomainSpec): Promise<SpawnResult> {
    const host = target.config.name;
    const existing = await this.domainUuid(target, spec.name);
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
    const sizeArgs = spec.rootDiskGb > 0 ? [`${await this.rootDiskSize(target, base, spec)}G`] : [];

    try {
      await this.runOk(target, ['mkdir', '-p', '--', paths.dir]);
      // No domain uses this folder (none is defined), so a disk left by an interrupted spawn is redone.
      await this.runOk(target, ['rm', '-f', '--', paths.disk]);
      await this.runOk(target, [
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
      // Defining the same XML again (a retry after a lost connection) only redefines it.
      await this.virshOk(target, ['define', paths.domainXml], spec.name);
      await this.start(target, spec.name);
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

  async powerOff(host: string, domainName: string, options: PowerOffOptions): Promise<PowerOffResult> {
    const target = this.host(host);
    assertDomainName(domainName);
    if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 0) {
      throw new InvalidArgument('powerOff timeoutMs must be a non-negative integer');
    }
    return this.exclusive(target, domainName, () =>
      this.powerOffDomain(target, domainName, options.timeoutMs),
    );
  }

  private async powerOffDomain(target: Host, domainName: string, timeoutMs: number): Promise<PowerOffResult> {
    const state = await this.existingState(target, domainName);
    if (isPoweredOff(state)) return { forced: false };
    if (timeoutMs > 0 && state !== 'paused') {
      const asked = await this.virsh(target, ['shutdown', '--mode', 'acpi', domainName]);
      const kind = this.failureKind(asked);
      if (kind === 'not-running') return { forced: false };
      // Any other refusal (no ACPI, say) leaves destroying as the only way, as in Nova.
      if (kind === undefined && (await this.waitUntilOff(target, domainName, timeoutMs))) {
        return { forced: false };
      }
    }
    const destroyed = await this.virsh(target, ['destroy', domainName]);
    const kind = this.failureKind(destroyed);
    if (kind === 'not-running') return { forced: false }; // it went down on its own just now
    if (kind !== undefined) throw this.commandError(target, destroyed);
    return { forced: true };
  }

  async powerOn(host: string, domainName: string): Promise<void> {
    const target = this.host(host);
    assertDomainName(domainName);
    await this.exclusive(target, domainName, () => this.powerOnDomain(target, domainName));
  }

  private async powerOnDomain(target: Host, domainName: string): Promise<void> {
    const state = await this.existingState(target, domainName);
    if (state === 'running' || state === 'shutdown') return;
    if (state === 'paused') await this.virshOk(target, ['resume', domainName], domainName);
    else await this.start(target, domainName);
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
    target: Host,
    domainName: string,
    type: RebootType,
    softTimeoutMs: number,
  ): Promise<RebootResult> {
    const state = await this.existingState(target, domainName);
    // A guest that is not running cannot act on a request: Nova reboots it HARD too.
    if (type === 'SOFT' && state === 'running') {
      if (await this.softReboot(target, domainName, softTimeoutMs)) {
        return { type: 'SOFT' };
      }
      this.log(`${target.config.name}: ${domainName} did not reboot on request; rebooting it HARD`);
    }
    if (!isPoweredOff(state)) await this.destroyIfRunning(target, domainName);
    await this.start(target, domainName);
    return { type: 'HARD' };
  }

  async destroy(host: string, domainName: string): Promise<DestroyResult> {
    const target = this.host(host);
    const instanceId = assertDomainName(domainName);
    return this.exclusive(target, domainName, () => this.destroyDomain(target, domainName, instanceId));
  }

  private async destroyDomain(target: Host, domainName: string, instanceId: string): Promise<DestroyResult> {
    const state = await this.powerStateOf(target, domainName);
    if (state !== 'absent') {
      if (!isPoweredOff(state)) await this.destroyIfRunning(target, domainName);
      const undefinedResult = await this.virsh(target, [
        'undefine',
        '--managed-save',
        '--snapshots-metadata',
        '--nvram',
        domainName,
      ]);
      const kind = this.failureKind(undefinedResult);
      if (kind !== undefined && kind !== 'domain-not-found') throw this.commandError(target, undefinedResult);
    }
    // Also when the domain was absent: a spawn interrupted before `define` leaves a folder behind.
    await this.runOk(target, ['rm', '-rf', '--', instancePaths(target.config, instanceId).dir]);
    return { existed: state !== 'absent' };
  }

  async powerState(host: string, domainName: string): Promise<DomainPowerState> {
    const target = this.host(host);
    assertDomainName(domainName);
    return this.powerStateOf(target, domainName);
  }

  async listDomains(host: string): Promise<readonly DomainSummary[]> {
    const target = this.host(host);
    const listed = parseDomainList(await this.virshOk(target, ['list', '--all', '--uuid', '--name']));
    const states =
      listed.length === 0
        ? new Map<string, PowerState>()
        : parseDomainStates(await this.virshOk(target, ['domstats', '--state']));
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
    const result = await this.virsh(target, ['domdisplay', '--type', 'vnc', domainName]);
    const kind = this.failureKind(result);
    if (kind === 'domain-not-found') throw new DomainNotFound(target.config.name, domainName);
    if (kind === 'not-running') throw new DomainNotRunning(target.config.name, domainName);
    if (kind !== undefined) throw this.commandError(target, result);
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
    if ((await this.domainUuid(target, domainName)) === undefined) {
      throw new DomainNotFound(target.config.name, domainName);
    }
    const log = instancePaths(target.config, instanceId).consoleLog;
    const tail = await this.run(target, ['tail', '-c', String(MAX_CONSOLE_BYTES), '--', log]);
    if (tail.exitCode !== 0) {
      if (/No such file/.test(tail.stderr)) return ''; // defined, never started: nothing printed yet
      throw this.commandError(target, tail);
    }
    return lastLines(tail.stdout, Buffer.byteLength(tail.stdout) >= MAX_CONSOLE_BYTES, length);
  }

  async inventory(host: string): Promise<HostInventory> {
    const target = this.host(host);
    const node = parseNodeInfo(await this.virshOk(target, ['nodeinfo']));
    const disk = parseDiskFree(
      await this.runOk(target, ['df', '-P', '-k', '--', target.config.instancesDir]),
    );
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

  private exclusive<T>(target: Host, domainName: string, task: () => Promise<T>): Promise<T> {
    return this.domainLocks.run(`${target.config.name}/${domainName}`, task);
  }

  private host(name: string): Host {
    const host = typeof name === 'string' ? this.hosts.get(name) : undefined;
    if (!host) throw new UnknownHost(name);
    return host;
  }

  private async existingState(target: Host, domainName: string): Promise<PowerState> {
    const state = await this.powerStateOf(target, domainName);
    if (state === 'absent') throw new DomainNotFound(target.config.name, domainName);
    return state;
  }

  private async powerStateOf(target: Host, domainName: string): Promise<DomainPowerState> {
    const result = await this.virsh(target, ['domstate', domainName]);
    const kind = this.failureKind(result);
    if (kind === 'domain-not-found') return 'absent';
    if (kind !== undefined) throw this.commandError(target, result);
    return powerStateFromVirsh(result.stdout);
  }

  /** The uuid of the domain with this name, or undefined when there is none. */
  private async domainUuid(target: Host, domainName: string): Promise<string | undefined> {
    const result = await this.virsh(target, ['domuuid', domainName]);
    const kind = this.failureKind(result);
    if (kind === 'domain-not-found') return undefined;
    if (kind !== undefined) throw this.commandError(target, result);
    return result.stdout.trim().toLowerCase();
  }

  private async start(target: Host, domainName: string): Promise<void> {
    const result = await this.virsh(target, ['start', domainName]);
    const kind = this.failureKind(result);
    if (kind === undefined || kind === 'already-running') return;
    if (kind === 'domain-not-found') throw new DomainNotFound(target.config.name, domainName);
    throw this.commandError(target, result);
  }

  private async destroyIfRunning(target: Host, domainName: string): Promise<void> {
    const result = await this.virsh(target, ['destroy', domainName]);
    const kind = this.failureKind(result);
    if (kind === undefined || kind === 'not-running') return;
    if (kind === 'domain-not-found') throw new DomainNotFound(target.config.name, domainName);
    throw this.commandError(target, result);
  }

  /**
   * Asks the guest to reboot (ACPI) and waits for libvirt's reboot event. The listener starts just after
   * the request, not before: virsh has no way to say when a listener is ready, and a guest takes far
   * longer than one command's round trip to act on the request. Missing an instant reboot only costs an
   * unneeded HARD reboot, never a wrong SOFT.
   */
  private async softReboot(target: Host, domainName: string, timeoutMs: number): Promise<boolean> {
    const asked = await this.virsh(target, ['reboot', '--mode', 'acpi', domainName]);
    if (asked.exitCode !== 0) return false;
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const waited = await this.virsh(
      target,
      ['event', '--domain', domainName, '--event', 'reboot', '--timeout', String(seconds)],
      {
        timeoutMs: seconds * 1000 + this.commandTimeoutMs,
      },
    );
    return waited.exitCode === 0 && eventsReceived(waited.stdout) > 0;
  }

  /** Polls until the domain is off; true if it got there within the timeout. */
  private async waitUntilOff(target: Host, domainName: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.powerStateOf(target, domainName);
      if (state === 'absent') throw new DomainNotFound(target.config.name, domainName);
      if (isPoweredOff(state)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.pollIntervalMs, left)));
    }
  }

  private async rootDiskSize(target: Host, base: string, spec: DomainSpec): Promise<number> {
    const info = parseQemuImgInfo(
      await this.runOk(target, ['qemu-img', 'info', '--output=json', '-U', '-f', 'qcow2', base]),
    );
    if (spec.rootDiskGb * 1024 ** 3 < info.virtualSizeBytes) {
      throw new InvalidArgument(
        `rootDiskGb ${spec.rootDiskGb} is smaller than image ${spec.imageId} (${info.virtualSizeBytes} bytes)`,
      );
    }
    return spec.rootDiskGb;
  }

  /**
   * virsh with the host's URI. Every command the driver runs is safe to repeat (define redefines, start
   * and destroy report "already", undefine reports "not found"), so all are retried after a lost
   * connection; LC_ALL=C keeps the messages the error kinds are read from in English.
   */
  private virsh(
    target: Host,
    args: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return this.run(target, ['virsh', '--quiet', '-c', target.config.libvirtUri, ...args], options);
  }

  private run(
    target: Host,
    argv: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return target.session.exec(['env', 'LC_ALL=C', ...argv], {
      timeoutMs: options.timeoutMs ?? this.commandTimeoutMs,
      idempotent: true,
    });
  }

  private async runOk(
    target: Host,
    argv: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<string> {
    const result = await this.run(target, argv, options);
    if (result.exitCode !== 0) throw this.commandError(target, result);
    return result.stdout;
  }

  /** stdout of a virsh command that must succeed; "no such domain" becomes DomainNotFound. */
  private async virshOk(target: Host, args: readonly string[], domainName?: string): Promise<string> {
    const result = await this.virsh(target, args);
    const kind = this.failureKind(result);
    if (kind === undefined) return result.stdout;
    if (kind === 'domain-not-found' && domainName !== undefined)
      throw new DomainNotFound(target.config.name, domainName);
    throw this.commandError(target, result);
  }

  /** undefined when the command succeeded, else what its stderr says went wrong. */
  private failureKind(result: ExecResult): VirshErrorKind | undefined {
    return result.exitCode === 0 ? undefined : virshErrorKind(result.stderr);
  }

  private commandError(target: Host, result: ExecResult): CommandFailed {
    return new CommandFailed(
      target.config.name,
      result.commandLine,
      result.exitCode,
      result.signal,
      result.stderr,
    );
  }
}
