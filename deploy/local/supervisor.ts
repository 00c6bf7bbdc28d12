/**
 * Starts the one-machine services in the background and remembers exactly what it started: a run
 * record per service (pid, the command line, ports) under `.nimbus/run/`. `up` leaves a healthy
 * recorded process alone; `down` stops only processes whose recorded command line still matches,
 * so a recycled pid is never killed.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunRecord {
  readonly name: string;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly log: string;
  readonly startedAt: string;
  /** Whatever the service needs to be found again (ports, URLs). */
  readonly details: Readonly<Record<string, string | number>>;
}

export interface ServiceLaunch {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly details: Readonly<Record<string, string | number>>;
}

export class Supervisor {
  private readonly runDir: string;
  private readonly logDir: string;

  constructor(stateDir: string) {
    this.runDir = join(stateDir, 'run');
    this.logDir = join(stateDir, 'logs');
    mkdirSync(this.runDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  /** The record of a service whose process is still the one we started, or null. */
  async running(name: string): Promise<RunRecord | null> {
    const file = this.recordFile(name);
    if (!existsSync(file)) return null;
    const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    if (await isSameProcess(record)) return record;
    rmSync(file, { force: true });
    return null;
  }

  start(launch: ServiceLaunch): RunRecord {
    const log = join(this.logDir, `${launch.name}.log`);
    const fd = openSync(log, 'a');
    const [command, ...args] = launch.argv;
    if (!command) throw new Error(`service ${launch.name} has an empty command line`);
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: launch.env ?? process.env,
      cwd: launch.cwd ?? process.cwd(),
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${launch.name}`);
    const record: RunRecord = {
      name: launch.name,
      pid: child.pid,
      argv: launch.argv,
      log,
      startedAt: new Date().toISOString(),
      details: launch.details,
    };
    writeFileSync(this.recordFile(launch.name), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }

  records(): RunRecord[] {
    return readdirSync(this.runDir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(this.runDir, file), 'utf8')) as RunRecord);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only if the pid is still the process we started. */
  async stop(record: RunRecord, graceMs = 10_000): Promise<'stopped' | 'not running'> {
    const file = this.recordFile(record.name);
    if (!(await isSameProcess(record))) {
      rmSync(file, { force: true });
      return 'not running';
    }
    process.kill(record.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (await isSameProcess(record))) await sleep(100);
    if (await isSameProcess(record)) process.kill(record.pid, 'SIGKILL');
    while (await isSameProcess(record)) await sleep(50);
    rmSync(file, { force: true });
    return 'stopped';
  }

  tail(record: RunRecord, lines = 20): string {
    if (!existsSync(record.log)) return '';
    return readFileSync(record.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private recordFile(name: string): string {
    return join(this.runDir, `${name}.json`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function isSameProcess(record: RunRecord): Promise<boolean> {
  try {
    const raw = await readFile(`/proc/${record.pid}/cmdline`, 'utf8');
    const status = await readFile(`/proc/${record.pid}/status`, 'utf8');
    if (/^State:\s*Z/m.test(status)) return false;
    const argv = raw.split('\0').filter((part) => part.length > 0);
    return argv.length === record.argv.length && argv.every((part, index) => part === record.argv[index]);
  } catch {
    return false;
  }
}
