/**
 * `npm run down`: stops exactly what `up` started, newest part first: the supervised processes by
 * their run records, and the rig's sshd and guests. Data stays under `.nimbus/` (the store, the
 * images, the rig's hosts and their disks) until the user removes it.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { PARTS, Supervisor } from './services.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } }, strict: true });
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);
  for (const part of [...PARTS].reverse()) {
    process.stdout.write(`${part.name}: ${await part.stop(stateDir, supervisor)}\n`);
  }
  process.stdout.write(`data kept in ${stateDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`down: ${(error as Error).message}\n`);
  process.exit(1);
});
