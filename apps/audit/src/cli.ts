/**
 * What every audit command shares: the usage error (exit status 2, nothing done), the command line, the
 * credentials (the usual OS_* variables, else the admin's `.nimbus/openrc` that `npm run up` wrote), and
 * where output goes. Commands get an `AuditIo` rather than the process, so tests run them in-process.
 * Must never print a password or a token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** Bad input: the CLI says what is wrong and exits with 2 before doing anything. */
export class UsageError extends Error {}

export interface AuditIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Records (without --out) and results. */
  write(text: string): void;
  /** What happened along the way: gaps, duplicates, reconnections. */
  warn(text: string): void;
  /** Aborted when the user asks `tail` to stop (Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface AuditOptions {
  readonly json: boolean;
  readonly out?: string;
  readonly since?: string;
  readonly projectId?: string;
  readonly allProjects: boolean;
  /** `tail`/`export` over NATS: the name of the durable subscription to read. */
  readonly nats?: string;
  /** `wait`: the status to wait for, and for how long (seconds). */
  readonly status?: string;
  readonly timeout?: string;
}

export function parseCommandLine(argv: readonly string[]): {
  readonly positionals: string[];
  readonly options: AuditOptions;
  readonly help: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        out: { type: 'string' },
        since: { type: 'string' },
        project: { type: 'string' },
        'all-projects': { type: 'boolean' },
        nats: { type: 'string' },
        status: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  return {
    positionals,
    help: values.help === true,
    options: {
      json: values.json === true,
      allProjects: values['all-projects'] === true,
      ...(values.out === undefined ? {} : { out: values.out }),
      ...(values.since === undefined ? {} : { since: values.since }),
      ...(values.project === undefined ? {} : { projectId: values.project }),
      ...(values.nats === undefined ? {} : { nats: values.nats }),
      ...(values.status === undefined ? {} : { status: values.status }),
      ...(values.timeout === undefined ? {} : { timeout: values.timeout }),
    },
  };
}

export interface Credentials {
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomain: string;
  readonly projectDomain: string;
}

const OPENRC = /^export (OS_[A-Z_]+)='([^']*)'$/;

/** OS_* from the environment; when OS_AUTH_URL is unset, every OS_* from `.nimbus/openrc` instead. */
export function credentialsFrom(io: AuditIo): Credentials {
  let env = io.env;
  const openrc = join(io.cwd, '.nimbus', 'openrc');
  if (!env.OS_AUTH_URL && existsSync(openrc)) {
    const fromFile: Record<string, string> = {};
    for (const line of readFileSync(openrc, 'utf8').split('\n')) {
      const match = OPENRC.exec(line.trim());
      if (match?.[1] && match[2] !== undefined) fromFile[match[1]] = match[2];
    }
    env = fromFile;
  }
  const {
    OS_AUTH_URL: authUrl,
    OS_USERNAME: username,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: projectName,
  } = env;
  if (!authUrl || !username || !password || !projectName) {
    const missing = Object.entries({
      OS_AUTH_URL: authUrl,
      OS_USERNAME: username,
      OS_PASSWORD: password,
      OS_PROJECT_NAME: projectName,
    })
      .filter(([, value]) => !value)
      .map(([name]) => name);
    throw new UsageError(
      `no credentials: set ${missing.join(', ')} (source an openrc), or run \`npm run up\` to write .nimbus/openrc`,
    );
  }
  return {
    authUrl: authUrl.replace(/\/+$/, ''),
    username,
    password,
    projectName,
    userDomain: env.OS_USER_DOMAIN_NAME ?? 'Default',
    projectDomain: env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
  };
}
