// Names and limits of a rig: its Unix user names and the checks on what callers pass in.
// Pure functions only. A user name built here becomes an account on the machine and an entry in
// sshd's AllowUsers, so every input is checked against a strict pattern before it is used.

import { createHash } from 'node:crypto';

export const MAX_HOSTS = 64;

/** Lower-case letter first, then letters and digits: safe in user names, sshd patterns and paths. */
const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

export class RigConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RigConfigError';
  }
}

export function validateNamePrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new RigConfigError(
      `namePrefix '${prefix}' must be 1 to 16 characters: a lower-case letter, then lower-case letters or digits`,
    );
  }
  return prefix;
}

export function validateHostCount(hosts: number): number {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > MAX_HOSTS) {
    throw new RigConfigError(`hosts must be a whole number from 1 to ${MAX_HOSTS}, not ${hosts}`);
  }
  return hosts;
}

/** 0 means "pick a free port", as for listen(2). */
export function validatePort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RigConfigError(`sshPort must be a whole number from 0 to 65535, not ${port}`);
  }
  return port;
}

/**
 * Without an explicit prefix, the rig is named after its state folder, so two rigs in two folders
 * (parallel test runs, say) never share a Unix user, and the same folder always gets the same names.
 */
export function defaultNamePrefix(realStateDir: string): string {
  return `r${createHash('sha256').update(realStateDir).digest('hex').slice(0, 7)}`;
}

/** `nimbus-<prefix>-h<n>`: at most 7 + 16 + 2 + 2 = 27 characters, under Linux's 32. */
export function hostUserName(prefix: string, index: number): string {
  return `nimbus-${validateNamePrefix(prefix)}-h${index}`;
}

export function hostUserNames(prefix: string, hosts: number): string[] {
  return Array.from({ length: validateHostCount(hosts) }, (_, i) => hostUserName(prefix, i + 1));
}
