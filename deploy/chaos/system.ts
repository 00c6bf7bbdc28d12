/**
 * The system a chaos run attacks: the parts `npm run up` starts (deploy/local's PARTS, under its
 * Supervisor), in a state folder and with a rig prefix of the run's own, so a system the user
 * brought up is never touched. It knows each part's pid and loopback port, starts a killed part
 * again exactly as it was launched (same command line, same ports), and takes everything down:
 * processes, the rig's host users and their domains, and the state folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { destroyRig, readInventory, rigPaths, type RigInventory } from '../rig/rig.js';
import { runningSshd } from '../rig/sshd.js';
import { PARTS, partsFor } from '../local/parts.js';
import { type Part, type PartContext, loadSecrets, rigDir } from '../local/services.js';
import { type RunRecord, type ServiceLaunch, Supervisor, sleep } from '../local/supervisor.js';
import type { Target } from './schedule.js';

/** A Supervisor that remembers how it launched each service, so a killed one comes back the same. */
class RelaunchingSupervisor extends Supervisor {
  private readonly launches = new Map<string, ServiceLaunch>();

  override start(launch: ServiceLaunch): RunRecord {
    this.launches.set(launch.name, launch);
    return super.start(launch);
  }

  relaunch(name: string): RunRecord {
    const launch = this.launches.get(name);
    if (!launch) throw new Error(`${name} was never started here`);
    return super.start(launch);
  }
}

const HEALTH_TIMEOUT_MS = 90_000;

export interface ChaosSystemOptions {
  readonly hosts: number;
  readonly log: (line: string) => void;
}

export class ChaosSystem {
  private constructor(
    readonly stateDir: string,
    readonly apiUrl: string,
    readonly adminPassword: string,
    readonly rig: RigInventory,
    private readonly context: PartContext,
    private readonly supervisor: RelaunchingSupervisor,
  ) {}

  /**
   * Starts every part in `npm run up`'s order and waits for each to be healthy. If a part fails,
   * what was started is taken down before the error is thrown.
   */
  static async up(options: ChaosSystemOptions): Promise<ChaosSystem> {
    const stateDir = mkdtempSync(join(tmpdir(), 'nimbus-chaos-'));
    const supervisor = new RelaunchingSupervisor(stateDir);
    const env: Record<string, string> = {};
    const context: PartContext = {
      stateDir,
      projectRoot: process.cwd(),
      // One rig per run: the pid makes the host users' names unique on the machine.
      options: {
        driver: 'libvirt',
        hosts: options.hosts,
        rigPrefix: `chaos${process.pid}`,
        dashboard: false,
        cluster: false,
      },
      env,
      secrets: loadSecrets(stateDir),
      supervisor,
    };
    try {
      for (const part of partsFor(context.options)) {
        const status = await part.ensure(context);
        Object.assign(env, status.exports);
        options.log(`  ${part.name.padEnd(13)} ${status.detail}`);
      }
      const rig = await readInventory(rigDir(stateDir));
      return new ChaosSystem(
        stateDir,
        env.API_URL ?? '',
        context.secrets.adminPassword,
        rig,
        context,
        supervisor,
      );
    } catch (error) {
      await takeDown(stateDir, supervisor);
      throw error;
    }
  }

  /** `esdb://...` of the run's event store. */
  get eventStoreUrl(): string {
    return this.context.env.EVENTSTORE_URL ?? '';
  }

  /** The pid of a part's main process, or undefined when it is not running. */
  async pid(target: Target): Promise<number | undefined> {
    if (target === 'sshd') return runningSshd(rigPaths(await realpath(rigDir(this.stateDir))));
    return (await this.supervisor.running(target))?.pid;
  }

  /** The loopback port other parts reach a part on. */
  async port(target: Target): Promise<number> {
    if (target === 'sshd') return this.rig.sshPort;
    const record = (await this.supervisor.running(target)) ?? this.record(target);
    const { port, url } = record.details;
    if (typeof port === 'number') return port;
    if (typeof url === 'string') return Number(new URL(url).port);
    throw new Error(`${target} listens on no port other parts use`);
  }

  /** Starts a part that was killed again, as it was launched, and waits until it is healthy. */
  async restart(target: Target): Promise<void> {
    const part = partNamed(target === 'sshd' ? 'rig' : target);
    if (target === 'sshd') {
      // The rig's own `ensure` starts its sshd again on the port in its manifest.
      await part.ensure(this.context);
    } else if (!(await this.supervisor.running(target))) {
      this.supervisor.relaunch(target);
    }
    await this.healthy(part);
  }

  /** Stops every part, newest first, and removes the rig's host users and the state folder. */
  async down(): Promise<void> {
    await takeDown(this.stateDir, this.supervisor);
  }

  private async healthy(part: Part): Promise<void> {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (!(await part.healthy(this.stateDir, this.supervisor))) {
      if (Date.now() > deadline) throw new Error(`${part.name} did not become healthy again`);
      await sleep(100);
    }
  }

  private record(name: string): RunRecord {
    const record = this.supervisor.records().find((candidate) => candidate.name === name);
    if (!record) throw new Error(`no run record for ${name}`);
    return record;
  }
}

function partNamed(name: string): Part {
  const part = PARTS.find((candidate) => candidate.name === name);
  if (!part) throw new Error(`no part named ${name}`);
  return part;
}

/** Every step is tried even when one before it failed; the failures are thrown together. */
async function takeDown(stateDir: string, supervisor: Supervisor): Promise<void> {
  const failures: string[] = [];
  for (const part of [...PARTS].reverse()) {
    await part.stop(stateDir, supervisor).catch((error: unknown) => {
      failures.push(`${part.name}: ${(error as Error).message}`);
    });
  }
  await destroyRig(rigDir(stateDir), { removeUsers: true }).catch((error: unknown) => {
    failures.push(`rig: ${(error as Error).message}`);
  });
  rmSync(stateDir, { recursive: true, force: true });
  if (failures.length > 0)
    throw new Error(`taking the chaos system down left work undone:\n  ${failures.join('\n  ')}`);
}
