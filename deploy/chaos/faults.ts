/**
 * Injects one fault of the schedule into a part of the chaos system and heals it: SIGKILL and a
 * restart as launched, SIGSTOP and SIGCONT, or a partition made with nftables on loopback (a
 * table of this run's own dropping TCP to and from the part's port). Whatever happens, `healAll`
 * continues every paused process and deletes the table: nothing of a fault outlives the run.
 * It signals only pids the system's own run records and the rig's pid file name, never by name.
 */
import { findTool, run } from '../rig/exec.js';
import { descendantsOf, listProcesses, sleep } from '../rig/processes.js';
import type { Fault, Target } from './schedule.js';
import type { ChaosSystem } from './system.js';

const NFT = { name: 'nft', debianPackage: 'nftables' } as const;

/** One fault as it happened. */
export interface FaultRecord {
  readonly round: number;
  readonly kind: Fault['kind'];
  readonly target: Target;
  /** When it began and when it was healed, in ms from the start of the run. */
  readonly atMs: number;
  readonly healedAtMs: number | null;
  /** What was done: the pid signalled, the port cut off. */
  readonly detail: string;
  /** Why it could not be done or healed, if so. */
  readonly error: string | null;
}

export class FaultInjector {
  /** `inet nimbus_chaos_<pid>`: one table per run, so two runs never delete each other's rules. */
  readonly table = `nimbus_chaos_${process.pid}`;
  private readonly paused = new Set<number>();
  private terminated: number | null = null;
  private tableExists = false;

  private constructor(
    private readonly system: ChaosSystem,
    private readonly nft: string,
    private readonly clock: () => number,
  ) {}

  /** Fails at once when nftables is missing, before any system is started. */
  static async create(system: ChaosSystem, clock: () => number): Promise<FaultInjector> {
    return new FaultInjector(system, await findTool(NFT), clock);
  }

  static async checkTools(): Promise<void> {
    await findTool(NFT);
  }

  /** Begins the fault, waits its duration, heals it; resolves to what happened. */
  async inject(round: number, fault: Fault): Promise<FaultRecord> {
    const atMs = this.clock();
    let detail = '';
    try {
      detail = await this.begin(fault);
      await sleep(fault.durationMs);
      await this.heal(fault);
      return {
        round,
        kind: fault.kind,
        target: fault.target,
        atMs,
        healedAtMs: this.clock(),
        detail,
        error: null,
      };
    } catch (error) {
      await this.healAll().catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      return {
        round,
        kind: fault.kind,
        target: fault.target,
        atMs,
        healedAtMs: null,
        detail,
        error: message,
      };
    }
  }

  /** Continues every process this injector paused and deletes its nftables table. */
  async healAll(): Promise<void> {
    for (const pid of this.paused) signal(pid, 'SIGCONT');
    this.paused.clear();
    if (this.tableExists) {
      await run(this.nft, ['delete', 'table', 'inet', this.table]);
      this.tableExists = false;
    }
  }

  private async begin(fault: Fault): Promise<string> {
    switch (fault.kind) {
      case 'kill': {
        const pid = await this.pidOf(fault.target);
        // The rig's sshd goes with the connections it serves, as when a host's sshd crashes hard.
        const sessions = fault.target === 'sshd' ? descendantsOf(pid, await listProcesses()) : [];
        for (const each of [pid, ...sessions]) signal(each, 'SIGKILL');
        return `SIGKILL pid ${pid}${sessions.length > 0 ? ` and ${sessions.length} session(s)` : ''}`;
      }
      case 'terminate': {
        const pid = await this.pidOf(fault.target);
        this.terminated = pid;
        signal(pid, 'SIGTERM');
        return `SIGTERM pid ${pid}`;
      }
      case 'pause': {
        const pid = await this.pidOf(fault.target);
        this.paused.add(pid);
        signal(pid, 'SIGSTOP');
        return `SIGSTOP pid ${pid}`;
      }
      case 'partition': {
        const port = await this.system.port(fault.target);
        await this.partition(port);
        return `TCP to and from 127.0.0.1:${port} dropped`;
      }
    }
  }

  private async heal(fault: Fault): Promise<void> {
    switch (fault.kind) {
      case 'kill':
        await this.system.restart(fault.target);
        return;
      case 'terminate':
        // A graceful shutdown takes its time (the compute agent lets work finish): wait for the exit.
        if (this.terminated !== null) await exited(this.terminated, TERMINATE_WAIT_MS);
        this.terminated = null;
        await this.system.restart(fault.target);
        return;
      case 'pause':
      case 'partition':
        await this.healAll();
        return;
    }
  }

  /** Drops, not rejects: the other side sees silence, as in a real partition, not a reset. */
  private async partition(port: number): Promise<void> {
    const rules = [
      `table inet ${this.table} {`,
      '  chain output {',
      '    type filter hook output priority 0; policy accept;',
      `    oifname "lo" tcp dport ${port} drop`,
      `    oifname "lo" tcp sport ${port} drop`,
      '  }',
      '}',
      '',
    ].join('\n');
    this.tableExists = true;
    await run(this.nft, ['-f', '-'], { input: rules });
  }

  private async pidOf(target: Target): Promise<number> {
    const pid = await this.system.pid(target);
    if (pid === undefined) throw new Error(`${target} is not running`);
    return pid;
  }
}

/** How long a part asked to stop with SIGTERM may take before it is killed. */
const TERMINATE_WAIT_MS = 15_000;

/** Resolves once `pid` has exited, killing it after `waitMs`. */
async function exited(pid: number, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) signal(pid, 'SIGKILL');
    await sleep(100);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
