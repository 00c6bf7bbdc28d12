/**
 * The audit CLI's commands and their dispatch, apart from the process (main.ts), so tests run them
 * in-process. Exit status: 0 done, 1 the log or the feed says no (a broken chain, a gap, a refusal),
 * 2 bad input (nothing was done).
 */
import { type AuditIo, UsageError, parseCommandLine } from './cli.js';
import { BrokenLog } from './audit-log.js';
import { LoginFailed } from './keystone.js';
import { subscribe } from './commands/subscribe.js';
import { verify } from './commands/verify.js';
import { waitFor } from './commands/wait.js';

export const USAGE = [
  'usage: audit <command> [arguments] [options]',
  'commands:',
  '  tail                 follow the audit feed live, one CloudEvent a line, until stopped',
  '  export               the audit feed up to the end of what is stored',
  "  verify <file>        check an audit log's hash chain; names the first bad record",
  '  wait <server>        wait for a server to reach --status (ACTIVE by default) by watching, not polling',
  'options:',
  '  --out <file>         append to this log (resuming after its last record) instead of standard output',
  '  --since <from>       beginning (default), a feed position, or an RFC 3339 time',
  "  --project <id>       one project's events (admins; default: the token's project)",
  "  --all-projects       every project's events (admins)",
  '  --nats <name>        read over NATS, through the durable subscription of that name (made if new)',
  '  --status <status>    wait: the status to wait for; --timeout <s>: how long (600)',
  '  --json               machine-readable summary',
  'credentials: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (and the domains), else .nimbus/openrc',
].join('\n');

export async function runAudit(argv: readonly string[], io: AuditIo): Promise<number> {
  try {
    const { positionals, options, help } = parseCommandLine(argv);
    const [name, ...args] = positionals;
    if (help || name === undefined) {
      io.write(`${USAGE}\n`);
      return help ? 0 : 2;
    }
    const arity = (count: number): void => {
      if (args.length !== count) throw new UsageError(`${name} takes ${count} argument(s)`);
    };
    switch (name) {
      case 'tail':
      case 'export':
        arity(0);
        return await subscribe(name, options, io);
      case 'verify': {
        const [file] = args;
        if (file === undefined || args.length !== 1)
          throw new UsageError('verify takes 1 argument: the log file');
        return await verify(file, options, io);
      }
      case 'wait': {
        const [server] = args;
        if (server === undefined || args.length !== 1)
          throw new UsageError('wait takes 1 argument: the server id');
        return await waitFor(server, options, io);
      }
      default:
        throw new UsageError(`unknown command ${name}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.warn(`audit: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof BrokenLog || error instanceof LoginFailed) {
      io.warn(`audit: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
