/**
 * `npm run down`: stops exactly what `up` started, newest part first: the supervised processes by
 * their run records, and the rig's sshd and guests. Data stays under `.nimbus/` (the store, the
 * images, the rig's hosts and their disks) until the user removes it, which `--purge` does: it also
 * deletes the rig's host users and their homes, so nothing of the system is left on the machine.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { destroyRig } from '../rig/rig.js';
import { PARTS } from './parts.js';
import { Supervisor, rigDir } from './services.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'state-dir': { type: 'string' }, purge: { type: 'boolean', default: false } },
    strict: true,
  });
  const stateDir = resolve(values['state-dir'] ?? '.nimbus');
  const supervisor = new Supervisor(stateDir);
  for (const part of [...PARTS].reverse()) {
    process.stdout.write(`${part.name}: ${await part.stop(stateDir, supervisor)}\n`);
  }
  if (!values.purge) {
    process.stdout.write(`data kept in ${stateDir}\n`);
    return;
  }
  if (existsSync(rigDir(stateDir))) await destroyRig(rigDir(stateDir), { removeUsers: true });
  await rm(stateDir, { recursive: true, force: true });
  process.stdout.write(`purged: the rig's host users and ${stateDir} are deleted\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`down: ${(error as Error).message}\n`);
  process.exit(1);
});
