/**
 * One libvirt host as the virsh driver uses it: its configuration and SSH session, the commands run on
 * it (always `env LC_ALL=C` and an argument vector, virsh with the host's URI, each safe to repeat, so
 * each is retried after a lost connection), what a failed command's stderr means, and the per-domain
 * steps the driver's operations are made of (state, uuid, start, destroy, a soft reboot, waiting until
 * off). The operations themselves, their checks and their turn per domain are the driver's
 * (virsh-driver.ts).
 * Must never run a command except as an argument vector through the session.
 */
import type { PowerState } from '#libs/contracts';
import type { ExecResult } from '#libs/host-ssh';

import type { DomainSpec } from '../domain-spec.js';
import { DomainNotFound, InvalidArgument } from '../errors.js';
import { isPoweredOff, type DomainPowerState } from '../hypervisor-driver.js';
import { CommandFailed, virshErrorKind, type VirshErrorKind } from './errors.js';
import type { LibvirtHostConfig } from './host-config.js';
import type { HostSession } from './host-session.js';
import { powerStateFromVirsh } from './power-state.js';
import { eventsReceived, parseQemuImgInfo } from './virsh-output.js';

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Written to the command's standard input. */
  readonly stdin?: string;
}

export interface VirshHostOptions {
  /** Per command, unless the call sets its own. */
  readonly commandTimeoutMs: number;
  /** How often waits look at the domain's state. */
  readonly pollIntervalMs: number;
}

/** undefined when the command succeeded, else what its stderr says went wrong. */
export function failureKind(result: ExecResult): VirshErrorKind | undefined {
  return result.exitCode === 0 ? undefined : virshErrorKind(result.stderr);
}

export class VirshHost {
  constructor(
    readonly config: LibvirtHostConfig,
    readonly session: HostSession,
    private readonly options: VirshHostOptions,
  ) {}

  async existingState(domainName: string): Promise<PowerState> {
    const state = await this.powerState(domainName);
    if (state === 'absent') throw new DomainNotFound(this.config.name, domainName);
    return state;
  }

  async powerState(domainName: string): Promise<DomainPowerState> {
    const result = await this.virsh(['domstate', domainName]);
    const kind = failureKind(result);
    if (kind === 'domain-not-found') return 'absent';
    if (kind !== undefined) throw this.commandError(result);
    return powerStateFromVirsh(result.stdout);
  }

  /** The uuid of the domain with this name, or undefined when there is none. */
  async domainUuid(domainName: string): Promise<string | undefined> {
    const result = await this.virsh(['domuuid', domainName]);
    const kind = failureKind(result);
    if (kind === 'domain-not-found') return undefined;
    if (kind !== undefined) throw this.commandError(result);
    return result.stdout.trim().toLowerCase();
  }

  async start(domainName: string): Promise<void> {
    const result = await this.virsh(['start', domainName]);
    const kind = failureKind(result);
    if (kind === undefined || kind === 'already-running') return;
    if (kind === 'domain-not-found') throw new DomainNotFound(this.config.name, domainName);
    throw this.commandError(result);
  }

  async destroyIfRunning(domainName: string): Promise<void> {
    const result = await this.virsh(['destroy', domainName]);
    const kind = failureKind(result);
    if (kind === undefined || kind === 'not-running') return;
    if (kind === 'domain-not-found') throw new DomainNotFound(this.config.name, domainName);
    throw this.commandError(result);
  }

  /**
   * Asks the guest to reboot (ACPI) and waits for libvirt's reboot event. The listener starts just after
   * the request, not before: virsh has no way to say when a listener is ready, and a guest takes far
   * longer than one command's round trip to act on the request. Missing an instant reboot only costs an
   * unneeded HARD reboot, never a wrong SOFT.
   */
  async softReboot(domainName: string, timeoutMs: number): Promise<boolean> {
    const asked = await this.virsh(['reboot', '--mode', 'acpi', domainName]);
    if (asked.exitCode !== 0) return false;
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const waited = await this.virsh(
      ['event', '--domain', domainName, '--event', 'reboot', '--timeout', String(seconds)],
      {
        timeoutMs: seconds * 1000 + this.options.commandTimeoutMs,
      },
    );
    return waited.exitCode === 0 && eventsReceived(waited.stdout) > 0;
  }

  /** Polls until the domain is off; true if it got there within the timeout. */
  async waitUntilOff(domainName: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.powerState(domainName);
      if (state === 'absent') throw new DomainNotFound(this.config.name, domainName);
      if (isPoweredOff(state)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.pollIntervalMs, left)));
    }
  }

  async rootDiskSize(base: string, spec: DomainSpec): Promise<number> {
    const info = parseQemuImgInfo(
      await this.runOk(['qemu-img', 'info', '--output=json', '-U', '-f', 'qcow2', base]),
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
  virsh(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.run(['virsh', '--quiet', '-c', this.config.libvirtUri, ...args], options);
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.session.exec(['env', 'LC_ALL=C', ...argv], {
      timeoutMs: options.timeoutMs ?? this.options.commandTimeoutMs,
      idempotent: true,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
  }

  async runOk(argv: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(argv, options);
    if (result.exitCode !== 0) throw this.commandError(result);
    return result.stdout;
  }

  /** stdout of a virsh command that must succeed; "no such domain" becomes DomainNotFound. */
  async virshOk(args: readonly string[], domainName?: string): Promise<string> {
    const result = await this.virsh(args);
    const kind = failureKind(result);
    if (kind === undefined) return result.stdout;
    if (kind === 'domain-not-found' && domainName !== undefined)
      throw new DomainNotFound(this.config.name, domainName);
    throw this.commandError(result);
  }

  commandError(result: ExecResult): CommandFailed {
    return new CommandFailed(
      this.config.name,
      result.commandLine,
      result.exitCode,
      result.signal,
      result.stderr,
    );
  }
}
