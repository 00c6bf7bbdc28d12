// The rig's command line: `up` creates the local hypervisor hosts and prints how to reach them,
// `down` tears them down. Exit codes: 0 done, 1 the rig failed, 2 bad command line.
// It must never print the private key, only its path; progress goes to stderr, the summary to stdout.

import { realpath } from 'node:fs/promises';

import { parseCommand, summarize, UsageError, USAGE, type RigCommand } from './cli.js';
import { createRig, destroyRig, rigPaths } from './rig.js';

async function main(argv: readonly string[]): Promise<number> {
  let command: RigCommand;
  try {
    command = parseCommand(argv, process.cwd());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`rig: ${line}\n`);

  if (command.command === 'up') {
    const inventory = await createRig({
      stateDir: command.stateDir,
      hosts: command.hosts,
      sshPort: command.sshPort,
      ...(command.namePrefix === undefined ? {} : { namePrefix: command.namePrefix }),
      log,
    });
    const paths = rigPaths(await realpath(command.stateDir));
    process.stdout.write(`${summarize(inventory, paths.inventory, paths.knownHosts)}\n`);
  } else {
    await destroyRig(command.stateDir, { removeUsers: command.removeUsers, log });
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rig: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
