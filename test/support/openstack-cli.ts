/**
 * Runs the real OpenStack command-line clients (Debian's python3-openstackclient and
 * python3-novaclient) and openstacksdk scripts against a running system, configured only by the
 * environment a user would set for any OpenStack cloud.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A user's password and project, or an application credential (which brings its own project). */
export type CliCredentials =
  | { readonly user: string; readonly password: string; readonly project: string }
  | { readonly applicationCredentialId: string; readonly secret: string };

export class OpenStackCli {
  readonly env: NodeJS.ProcessEnv;

  constructor(apiUrl: string, credentials: CliCredentials) {
    this.env = {
      PATH: '/usr/bin:/bin',
      HOME: mkdtempSync(join(tmpdir(), 'nimbus-cli-home-')),
      OS_AUTH_URL: `${apiUrl}/v3`,
      OS_IDENTITY_API_VERSION: '3',
      OS_REGION_NAME: 'RegionOne',
      ...('applicationCredentialId' in credentials
        ? {
            OS_AUTH_TYPE: 'v3applicationcredential',
            OS_APPLICATION_CREDENTIAL_ID: credentials.applicationCredentialId,
            OS_APPLICATION_CREDENTIAL_SECRET: credentials.secret,
          }
        : {
            OS_USERNAME: credentials.user,
            OS_PASSWORD: credentials.password,
            OS_PROJECT_NAME: credentials.project,
            OS_USER_DOMAIN_NAME: 'Default',
            OS_PROJECT_DOMAIN_NAME: 'Default',
          }),
    };
  }

  /** Removes the clients' home folder (their caches); the suite calls it when it is done. */
  close(): void {
    if (this.env.HOME) rmSync(this.env.HOME, { recursive: true, force: true });
  }

  /** `openstack <args> -f json`, parsed; throws with the output when the command fails. */
  async json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const result = await this.exec('/usr/bin/openstack', [...args, '-f', 'json']);
    if (result.status !== 0)
      throw new Error(`openstack ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  openstack(...args: string[]): Promise<CliResult> {
    return this.exec('/usr/bin/openstack', args);
  }

  nova(...args: string[]): Promise<CliResult> {
    return this.exec('/usr/bin/nova', args);
  }

  python(script: string, ...args: string[]): Promise<CliResult> {
    return this.exec('/usr/bin/python3', [script, ...args]);
  }

  private async exec(command: string, args: readonly string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await run(command, [...args], {
        env: this.env,
        timeout: 240_000,
        maxBuffer: 16 * 2 ** 20,
      });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return {
        status: typeof failed.code === 'number' ? failed.code : 1,
        stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? '',
      };
    }
  }
}

/** `server create --wait` of the tiny flavor and the seed image, with no network (2.37): the server shown. */
export function bootNano(client: OpenStackCli, name: string): Promise<Record<string, unknown>> {
  return client.json(
    'server',
    'create',
    '--os-compute-api-version',
    '2.37',
    '--flavor',
    'm1.nano',
    '--image',
    'nimbus-boot',
    '--nic',
    'none',
    '--wait',
    name,
  );
}
