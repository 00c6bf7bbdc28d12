#!/usr/bin/env node
/**
 * Makes a fresh clone runnable, with nothing but Node and npm: installs the Debian packages in
 * deploy/debian-packages.txt that are missing (as root, with apt-get; otherwise prints the exact
 * command), installs the npm dependencies if they are missing or stale (`npm ci`), and builds.
 * Plain JavaScript on purpose: it runs before any dependency exists. Idempotent and quick when
 * everything is already in place.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const say = (line) => process.stdout.write(`bootstrap: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`bootstrap: ${line}\n`);
  process.exit(1);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node ${process.versions.node} is too old; Nimbus needs Node 20.19 or newer`);

const packages = readFileSync(join(root, 'deploy/debian-packages.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

function installed(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
const missing = hasDpkg ? packages.filter((name) => !installed(name)) : [];
if (missing.length > 0) {
  const command = ['apt-get', 'install', '-y', ...missing];
  if (process.getuid?.() !== 0)
    fail(`missing Debian packages; install them with:\n  sudo apt-get update && sudo ${command.join(' ')}`);
  say(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
}

const installedLock = join(root, 'node_modules/.package-lock.json');
const stale =
  !existsSync(installedLock) ||
  statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installedLock).mtimeMs;
if (stale) {
  say('installing npm dependencies (npm ci; building better-sqlite3 takes about a minute)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('the build failed');
