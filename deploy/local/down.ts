/**
 * `npm run down`: stops exactly what `up` started (by its run records, newest part first) and
 * keeps the data under `.nimbus/` until the user removes it.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { SERVICES } from './services.js';
import { Supervisor } from './supervisor.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } }, strict: true });
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);
  const order = SERVICES.map((service) => service.name).reverse();
  const records = supervisor.records().sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  if (records.length === 0) {
    process.stdout.write('nothing to stop\n');
    return;
  }
  for (const record of records) {
    const result = await supervisor.stop(record);
    process.stdout.write(`${record.name}: ${result}\n`);
  }
  process.stdout.write(`data kept in ${stateDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`down: ${(error as Error).message}\n`);
  process.exit(1);
});
