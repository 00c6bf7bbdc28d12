/**
 * What a fresh machine of the supported kind (Debian 12) needs before `up` can start anything.
 * As root with apt available, `up` installs what is missing itself; otherwise it prints the exact
 * command and stops.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Requirement {
  readonly binary: string;
  readonly debianPackage: string;
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findBinary(binary: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SYSTEM_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/** Installs missing packages when it can; returns a message for the user when it cannot. */
export function ensureInstalled(
  requirements: readonly Requirement[],
  log: (line: string) => void,
): string | null {
  const missing = requirements.filter((requirement) => findBinary(requirement.binary) === null);
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((requirement) => requirement.debianPackage))];
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && findBinary('apt-get') !== null;
  if (!canInstall) {
    return `missing ${missing.map((requirement) => requirement.binary).join(', ')}; install them with:\n  sudo ${command}`;
  }
  log(`installing ${packages.join(', ')} with apt-get (missing: ${missing.map((r) => r.binary).join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  if (install.status !== 0) return `apt-get could not install ${packages.join(' ')}; run:\n  ${command}`;
  const still = missing.filter((requirement) => findBinary(requirement.binary) === null);
  return still.length === 0 ? null : `still missing after install: ${still.map((r) => r.binary).join(', ')}`;
}
