/**
 * The ops commands that ask the API rather than the store (a rebuild runs inside the API, which
 * keeps answering): the admin's credentials from the usual OS_* environment, else from the
 * `.nimbus/openrc` that `npm run up` wrote, and a Keystone password login that returns a token.
 * Must never print the password or the token.
 */
import { existsSync, readFileSync } from 'node:fs';

import { UsageError } from './cli.js';

export interface ApiSession {
  /** The API's origin, e.g. `http://127.0.0.1:8774`: identity, compute and Nimbus's own routes. */
  readonly origin: string;
  readonly token: string;
}

const VARIABLES = ['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME'] as const;

function credentials(): Record<string, string> {
  const found: Record<string, string> = {};
  if (existsSync('.nimbus/openrc')) {
    for (const [, key, value] of readFileSync('.nimbus/openrc', 'utf8').matchAll(
      /^export (OS_\w+)='([^']*)'$/gm,
    ))
      if (key && value !== undefined) found[key] = value;
  }
  for (const [key, value] of Object.entries(process.env))
    if (key.startsWith('OS_') && value) found[key] = value;
  const missing = VARIABLES.filter((key) => !found[key]);
  if (missing.length > 0)
    throw new UsageError(
      `no API credentials: set ${missing.join(', ')} (source .nimbus/openrc after npm run up)`,
    );
  return found;
}

export async function login(): Promise<ApiSession> {
  const env = credentials();
  const authUrl = env.OS_AUTH_URL ?? '';
  let origin: string;
  try {
    origin = new URL(authUrl).origin;
  } catch {
    throw new UsageError(`OS_AUTH_URL is not a URL: ${authUrl}`);
  }
  const domain = (name: string | undefined) => ({ name: name ?? 'Default' });
  const response = await fetch(`${authUrl.replace(/\/$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: {
              name: env.OS_USERNAME,
              domain: domain(env.OS_USER_DOMAIN_NAME),
              password: env.OS_PASSWORD,
            },
          },
        },
        scope: { project: { name: env.OS_PROJECT_NAME, domain: domain(env.OS_PROJECT_DOMAIN_NAME) } },
      },
    }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token)
    throw new Error(`the API refused the login of ${env.OS_USERNAME}: HTTP ${response.status}`);
  return { origin, token };
}
