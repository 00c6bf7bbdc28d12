/**
 * A project-scoped Keystone token for the audit feed (password authentication, as the openstack CLI does)
 * and the API's base URL, which is the identity URL without its `/v3`.
 * Must never log the token or the password.
 */
import type { Credentials } from './cli.js';

export interface Session {
  readonly token: string;
  readonly expiresAt: Date;
  readonly apiUrl: string;
}

export class LoginFailed extends Error {}

export async function login(credentials: Credentials): Promise<Session> {
  const response = await fetch(`${credentials.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: {
              name: credentials.username,
              domain: { name: credentials.userDomain },
              password: credentials.password,
            },
          },
        },
        scope: {
          project: { name: credentials.projectName, domain: { name: credentials.projectDomain } },
        },
      },
    }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token)
    throw new LoginFailed(
      `login as ${credentials.username} at ${credentials.authUrl} failed: HTTP ${response.status}`,
    );
  const body = (await response.json()) as { token?: { expires_at?: string } };
  const expiresAt = new Date(body.token?.expires_at ?? Date.now() + 3_600_000);
  return { token, expiresAt, apiUrl: credentials.authUrl.replace(/\/v3$/, '') };
}
