/**
 * The operators' CLI: read, explain, compare, check, move and follow the store.
 *
 *   npm run ops -- <command> [arguments] [options]      (npm run ops -- --help lists them)
 *
 * A server can be named by its id wherever a stream is asked for. The store is --url, else
 * EVENTSTORE_URL, else the one `npm run up` wrote to .nimbus/env; `rebuild` asks the API instead,
 * with the OS_* credentials (or .nimbus/openrc). Exit status: 0 done, 1 the store
 * says no (a stream missing, an invariant broken), 2 bad input (nothing was done).
 * Must never write to the store except through `import`, which checks everything first.
 */
import { parseArgs } from 'node:util';

import { EventStoreDBClient } from '@eventstore/db-client';

import { UsageError, storeUrl } from './cli.js';
import type { Command, Options } from './commands/command.js';
import { diff } from './commands/diff.js';
import { exportStreams } from './commands/export.js';
import { history } from './commands/history.js';
import { importStreams } from './commands/import.js';
import { rebuild } from './commands/rebuild.js';
import { state } from './commands/state.js';
import { tail } from './commands/tail.js';
import { verify } from './commands/verify.js';
import { why } from './commands/why.js';

const COMMANDS: Readonly<Record<string, Command>> = {
  history,
  state,
  why,
  diff,
  verify,
  tail,
  export: exportStreams,
  import: importStreams,
  rebuild,
};

const USAGE = [
  'usage: ops <command> [arguments] [options]',
  'commands:',
  ...Object.values(COMMANDS).map((command) => `  ${command.usage.padEnd(56)} ${command.summary}`),
  'options:',
  '  --url <esdb://...>  the event store (default: EVENTSTORE_URL, then .nimbus/env)',
  '  --json              machine-readable output',
].join('\n');

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        revision: { type: 'string' },
        at: { type: 'string' },
        prefix: { type: 'string', multiple: true },
        type: { type: 'string', multiple: true },
        out: { type: 'string' },
        limit: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function optionsOf(values: ReturnType<typeof parse>['values']): Options {
  const { limit } = values;
  if (limit !== undefined && !/^\d+$/.test(limit))
    throw new UsageError(`--limit must be a whole number, got ${limit}`);
  return {
    json: values.json === true,
    ...(values.revision === undefined ? {} : { revision: values.revision }),
    ...(values.at === undefined ? {} : { at: values.at }),
    prefix: values.prefix ?? [],
    type: values.type ?? [],
    ...(values.out === undefined ? {} : { out: values.out }),
    ...(limit === undefined ? {} : { limit: Number(limit) }),
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parse(process.argv.slice(2));
  const [name, ...args] = positionals;
  if (values.help || !name) {
    process.stdout.write(`${USAGE}\n`);
    return name || values.help ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command ${name}`);
  const [least, most] = command.arity;
  if (args.length < least || args.length > most)
    throw new UsageError(
      `${name} takes ${least === most ? least : `${least} to ${most}`} argument(s): ops ${command.usage}`,
    );
  // A command takes the options its usage line names (and --url); any other would be ignored silently.
  const accepted = new Set([...command.usage.matchAll(/--([a-z]+)/g)].map((match) => match[1]));
  const foreign = Object.keys(values).filter((option) => option !== 'url' && !accepted.has(option));
  if (foreign.length > 0)
    throw new UsageError(
      `${name} takes no ${foreign.map((option) => `--${option}`).join(', ')}: ops ${command.usage}`,
    );
  const options = optionsOf(values);
  const client = EventStoreDBClient.connectionString(storeUrl(values.url));
  try {
    return await command.run(client, args, options);
  } finally {
    await client.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`ops: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`ops: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
