// The rig CLI's grammar: turns argv into a validated command, and an inventory into a summary.
// Pure: no I/O and no process.exit, so every rule is covered by cli.spec.ts. It must never print
// anything from the private key file, only its path.

import { parseArgs } from 'node:util';
import path from 'node:path';

import type { RigInventory } from './inventory.js';
import { RigConfigError, validateHostCount, validateNamePrefix, validatePort } from './naming.js';

export const USAGE = `usage:
  main.js up   --state <dir> --hosts <n> [--port <p>] [--prefix <name>]
  main.js down --state <dir> [--remove-users]

  up    create the rig (or bring it up to date) and print how to reach its hosts
  down  stop its sshd, domains and libvirt daemons and delete instance files;
        --remove-users also deletes the host users and their homes
  --port 0 or no --port: keep the rig's previous port, else any free loopback port`;

export type RigCommand =
  | {
      readonly command: 'up';
      readonly stateDir: string;
      readonly hosts: number;
      readonly sshPort: number;
      readonly namePrefix?: string;
    }
  | { readonly command: 'down'; readonly stateDir: string; readonly removeUsers: boolean };

/** Thrown for anything the user typed wrong; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommand(argv: readonly string[], cwd: string): RigCommand {
  const { values, positionals } = parseOrThrow(argv);
  if (positionals.length !== 1) throw new UsageError('give exactly one command: up or down');
  const [command] = positionals;
  if (values.state === undefined || values.state === '') throw new UsageError('--state <dir> is required');
  const stateDir = path.resolve(cwd, values.state);

  if (command === 'down') {
    rejectFlags(values, ['hosts', 'port', 'prefix'], 'down');
    return { command, stateDir, removeUsers: values['remove-users'] ?? false };
  }
  if (command === 'up') {
    rejectFlags(values, ['remove-users'], 'up');
    if (values.hosts === undefined) throw new UsageError('--hosts <n> is required for up');
    return {
      command,
      stateDir,
      hosts: checked(() => validateHostCount(wholeNumber('--hosts', values.hosts))),
      sshPort:
        values.port === undefined ? 0 : checked(() => validatePort(wholeNumber('--port', values.port))),
      ...(values.prefix === undefined
        ? {}
        : { namePrefix: checked(() => validateNamePrefix(values.prefix ?? '')) }),
    };
  }
  throw new UsageError(`unknown command '${command}': use up or down`);
}

function parseOrThrow(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        state: { type: 'string' },
        hosts: { type: 'string' },
        port: { type: 'string' },
        prefix: { type: 'string' },
        'remove-users': { type: 'boolean' },
      },
    });
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function rejectFlags(values: Record<string, unknown>, flags: readonly string[], command: string): void {
  const given = flags.filter((flag) => values[flag] !== undefined);
  if (given.length > 0)
    throw new UsageError(`${command} does not take ${given.map((f) => `--${f}`).join(', ')}`);
}

/** Number('') is 0 and Number('1e3') is 1000: accept only plain decimal digits. */
function wholeNumber(flag: string, text: string | undefined): number {
  if (text === undefined || !/^\d{1,6}$/.test(text))
    throw new UsageError(`${flag} must be a whole number, not '${text}'`);
  return Number(text);
}

function checked<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof RigConfigError) throw new UsageError(error.message.replace(/^sshPort/, '--port'));
    throw error;
  }
}

/** What `up` prints: where the rig is, how to pin its key and log in, and its hosts. */
export function summarize(inventory: RigInventory, inventoryPath: string, knownHostsPath: string): string {
  const [first] = inventory.hosts;
  const lines = [
    `Nimbus rig: ${inventory.hosts.length} host(s) behind sshd ${inventory.sshHost}:${inventory.sshPort}`,
    `  host key     ${inventory.hostKeyFingerprint}`,
    `  client key   ${inventory.privateKeyPath}`,
    `  boot image   ${inventory.bootImagePath}`,
    `  guest image  ${inventory.guestImagePath}`,
    `  network      namespace ${inventory.network.netns}; reach guests with ip netns exec`,
    `  inventory    ${inventoryPath}`,
    '',
    ...inventory.hosts.map((host) => `  ${host.name}  ${host.libvirtUri}  ${host.home}`),
  ];
  if (first) {
    lines.push(
      '',
      'try:',
      `  ssh -i ${inventory.privateKeyPath} -p ${inventory.sshPort} -o UserKnownHostsFile=${knownHostsPath} ` +
        `-o StrictHostKeyChecking=yes ${first.user}@${inventory.sshHost} virsh -c ${first.libvirtUri} list --all`,
    );
  }
  return lines.join('\n');
}
