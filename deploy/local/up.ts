/**
 * `npm run up`: brings the whole system up in the background on its embedded defaults, waits
 * until every part is healthy, writes `.nimbus/env`, says what is running and what to try next,
 * and exits 0. Run again, it leaves healthy parts alone and changes nothing. Debian packages and npm
 * dependencies are bootstrap.mjs's business, which `npm run up` runs first.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { SERVICES, type ServiceSpec } from './services.js';
import { type RunRecord, Supervisor, sleep } from './supervisor.js';

const HEALTH_TIMEOUT_MS = 60_000;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function waitHealthy(spec: ServiceSpec, record: RunRecord, supervisor: Supervisor): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await spec.healthy(record)) return;
    if (!(await supervisor.running(spec.name))) break;
    await sleep(200);
  }
  throw new Error(
    `${spec.name} did not become healthy; last log lines (${record.log}):\n${supervisor.tail(record)}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } }, strict: true });
  const projectRoot = process.cwd();
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);

  const env: Record<string, string> = {};
  const rows: string[][] = [];
  for (const spec of SERVICES) {
    let record = await supervisor.running(spec.name);
    let state = 'already running';
    if (record && !(await spec.healthy(record))) {
      log(`${spec.name} is running but unhealthy; restarting it`);
      await supervisor.stop(record);
      record = null;
    }
    if (!record) {
      record = supervisor.start(await spec.launch({ stateDir, projectRoot, env }));
      state = 'started';
      await waitHealthy(spec, record, supervisor);
    }
    Object.assign(env, spec.exports(record));
    rows.push([
      spec.name,
      state,
      String(record.pid),
      Object.values(spec.exports(record)).join(' '),
      record.log,
    ]);
  }

  const envFile = join(stateDir, 'env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([key, value]) => `export ${key}='${value}'\n`)
      .join(''),
  );

  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  log('Nimbus is up:');
  for (const row of rows) {
    log(
      `  ${row
        .slice(0, 4)
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')}`,
    );
  }
  log(`\nEnvironment: ${envFile}`);
  log('Try next:');
  log(`  source ${envFile}`);
  log('  npm run ops -- history <stream>      # a stream as a table, e.g. one written by the tests');
  log('  npm test                             # the test suites');
  log('  npm run down                         # stop everything; data stays under .nimbus/');
}

main().catch((error: unknown) => {
  process.stderr.write(`up: ${(error as Error).message}\n`);
  process.exit(1);
});
