/**
 * `npm run chaos -- --seed S --rounds N [--hosts 3]`: a seeded, reproducible chaos run. It brings up
 * a system of its own from the parts `npm run up` starts, runs the rounds of the schedule the seed
 * draws (each one fault, healed, with the workload's requests issued during it), waits for the
 * system to settle, checks the invariants, takes everything down again (also on error or Ctrl-C)
 * and prints the report; the last line is one JSON object of the run's figures.
 * Exit status: 0 no violations, 1 violations, 2 bad input, 3 the run could not be made,
 * 130 interrupted (SIGINT or SIGTERM: the round under way is finished, nothing is checked).
 */
import { OpenStackHttp } from '../clients/openstack-http.js';
import { sleep } from '../local/supervisor.js';
import { type Facts, type Violation, check } from './checker.js';
import { type ChaosOptions, USAGE, UsageError, parseChaosArgs } from './cli.js';
import { FaultInjector, type FaultRecord } from './faults.js';
import { gatherFacts } from './gather.js';
import { formatReport } from './report.js';
import { type Round, planSchedule } from './schedule.js';
import { ChaosSystem } from './system.js';
import { Workload } from './workload.js';

/** Live servers at most: well inside what three rig hosts and the admin's quota hold. */
const MAX_LIVE_SERVERS = 6;
/** A request with no reply by then is recorded as unanswered (it may or may not have happened). */
const REQUEST_TIMEOUT_MS = 20_000;
const SETTLE_POLL_MS = 3_000;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

let interrupted = false;

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`chaos: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('chaos: the run makes rig host users and nftables rules: run it as root\n');
    return 3;
  }
  await FaultInjector.checkTools();

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!interrupted)
        say(`chaos: ${signal}: finishing this round, then healing and taking everything down`);
      interrupted = true;
    });
  }

  const schedule = planSchedule({
    seed: options.seed,
    rounds: options.rounds,
    maxLiveServers: MAX_LIVE_SERVERS,
  });
  const started = Date.now();
  const clock = () => Date.now() - started;
  say(
    `chaos: seed ${options.seed}, ${options.rounds} rounds, ${options.hosts} host(s); bringing up a system of its own:`,
  );
  const system = await ChaosSystem.up({ hosts: options.hosts, log: say });
  say(`chaos: state in ${system.stateDir} (removed at the end)`);

  const faults: FaultRecord[] = [];
  let workload: Workload | undefined;
  let injector: FaultInjector | undefined;
  let verdict: { violations: Violation[]; settledAfterMs: number | null } = {
    violations: [],
    settledAfterMs: null,
  };
  let failure: Error | null = null;
  /** A takedown that went wrong does not void the verdict, but the run still says so. */
  const takedown: { error: Error | null } = { error: null };
  try {
    const os = await OpenStackHttp.login(
      system.apiUrl,
      { user: 'admin', password: system.adminPassword, project: 'admin' },
      '2.37',
      REQUEST_TIMEOUT_MS,
    );
    // The default quota (10 instances) would refuse boots while deletes are still under way.
    const quota = await os.compute('PUT', `/os-quota-sets/${os.projectId}`, {
      quota_set: { instances: -1, cores: -1, ram: -1 },
    });
    if (quota.status !== 200) throw new Error(`lifting the admin's quota answered ${quota.status}`);
    workload = new Workload(os, await Workload.bootImage(os), options.seed, clock);
    injector = await FaultInjector.create(system, clock);

    for (const round of schedule) {
      if (interrupted) break;
      faults.push(await playRound(round, workload, injector));
      const last = faults.at(-1);
      say(
        `chaos: round ${round.index}/${options.rounds}: ${round.fault.kind} ${round.fault.target}` +
          `${last?.error ? ` (${last.error})` : ''}; ${workload.history.length} operations so far`,
      );
    }
    await injector.healAll();
    if (!interrupted) {
      say(`chaos: faults healed; waiting up to ${options.settleSeconds}s for the system to settle`);
      verdict = await settle(system, os, workload, options.settleSeconds * 1_000);
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  } finally {
    await injector?.healAll().catch((error: unknown) => {
      process.stderr.write(`chaos: healing failed: ${(error as Error).message}\n`);
    });
    say('chaos: taking the system down');
    await system.down().catch((error: unknown) => {
      process.stderr.write(`chaos: ${(error as Error).message}\n`);
      takedown.error = error as Error;
    });
  }
  if (failure !== null) {
    process.stderr.write(`chaos: the run failed: ${failure.message}\n`);
    return 3;
  }

  const report = formatReport({
    options,
    faults,
    operations: workload?.history ?? [],
    violations: verdict.violations,
    settledAfterMs: verdict.settledAfterMs,
    interrupted,
    durationMs: clock(),
  });
  say('');
  for (const line of report) say(line);
  if (takedown.error !== null) {
    process.stderr.write(
      `chaos: the verdict above stands, but the takedown failed: ${takedown.error.message}\n`,
    );
    return 3;
  }
  if (interrupted) return 130;
  return verdict.violations.length === 0 ? 0 : 1;
}

/** One fault, and the round's operations issued at their times while it is on; resolves once all are done. */
async function playRound(round: Round, workload: Workload, injector: FaultInjector): Promise<FaultRecord> {
  const fault = (async () => {
    await sleep(round.fault.atMs);
    return injector.inject(round.index, round.fault);
  })();
  const operations = round.operations.map(async (operation) => {
    await sleep(operation.atMs);
    await workload.perform(round.index, operation);
  });
  const [record] = await Promise.all([fault, ...operations]);
  return record;
}

/**
 * Gathers the facts and checks them until every invariant holds or the settle time is up; the
 * verdict is the last check's.
 */
async function settle(
  system: ChaosSystem,
  os: OpenStackHttp,
  workload: Workload,
  settleMs: number,
): Promise<{ violations: Violation[]; settledAfterMs: number | null }> {
  const healed = Date.now();
  for (;;) {
    let facts: Facts | null = null;
    let violations: Violation[] = [];
    try {
      facts = await gatherFacts(system.eventStoreUrl, os, system.rig, workload.history);
      violations = check(facts);
    } catch (error) {
      if (Date.now() - healed > settleMs) throw error;
    }
    if (facts !== null && violations.length === 0) return { violations, settledAfterMs: Date.now() - healed };
    if (facts !== null && (Date.now() - healed > settleMs || interrupted))
      return { violations, settledAfterMs: null };
    await sleep(SETTLE_POLL_MS);
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  },
);
