import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import { InvalidSshArgument } from '../src/errors.js';
import { quoteShellArg, shellCommandLine } from '../src/shell-quote.js';

const run = promisify(execFile);

/** The words a real shell splits the command line into: `printf '%s\0'` prints each one NUL-terminated. */
async function wordsSeenBy(shell: string, args: readonly string[]): Promise<string[]> {
  const { stdout } = await run(shell, ['-c', shellCommandLine(['printf', '%s\\0', ...args])], {
    encoding: 'utf8',
  });
  return stdout.split('\0').slice(0, -1);
}

const HOSTILE = [
  "a'b; rm -rf /",
  '$(x)',
  '`id`',
  '${HOME}',
  'line one\nline two',
  '\n',
  "'",
  "''",
  "'\\''",
  '"double"',
  '\\',
  'a\\',
  '*',
  '?',
  '[a-z]',
  '{a,b}',
  '~',
  '~root',
  '-n',
  '--',
  '#comment',
  'a #b',
  'x=y',
  '&& true',
  '| cat',
  '> /tmp/owned',
  '< /etc/passwd',
  '!',
  '!!',
  ' leading and trailing ',
  '\t',
  '',
  'ünïcødé ✓',
  'C:\\path',
];

/** A small seeded generator, so a failure names inputs that can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_ALPHABET = Array.from('abc XYZ019\'"\\$`!*?[]{}()<>|&;#~=%^\t\n\r-_.,/:@é✓');

function randomWords(random: () => number, count: number): string[] {
  return Array.from({ length: count }, () => {
    const length = Math.floor(random() * 12);
    return Array.from({ length }, () => NASTY_ALPHABET[Math.floor(random() * NASTY_ALPHABET.length)]).join(
      '',
    );
  });
}

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/zsh'].filter((shell) => existsSync(shell));

describe(quoteShellArg.name, () => {
  it('leaves plain words bare, so command lines stay readable in logs', () => {
    expect(quoteShellArg('virsh')).toBe('virsh');
    expect(quoteShellArg('--all')).toBe('--all');
    expect(quoteShellArg('qemu:///session')).toBe('qemu:///session');
    expect(quoteShellArg('/home/h1/instances/3f0c3e1e-0000-4000-8000-000000000001/disk.qcow2')).toBe(
      '/home/h1/instances/3f0c3e1e-0000-4000-8000-000000000001/disk.qcow2',
    );
  });

  it('wraps everything else in single quotes and writes a quote as close-escape-open', () => {
    expect(quoteShellArg("a'b; rm -rf /")).toBe(`'a'\\''b; rm -rf /'`);
    expect(quoteShellArg('$(x)')).toBe(`'$(x)'`);
    expect(quoteShellArg('a\nb')).toBe(`'a\nb'`);
    expect(quoteShellArg('')).toBe(`''`);
    expect(quoteShellArg('~')).toBe(`'~'`);
  });

  it('refuses a NUL, which no argument can carry', () => {
    expect(() => quoteShellArg('a\0b')).toThrow(InvalidSshArgument);
  });
});

describe(shellCommandLine.name, () => {
  it('joins quoted words with single spaces', () => {
    expect(shellCommandLine(['virsh', '-c', 'qemu:///session', 'domstate', "x'y"])).toBe(
      `virsh -c qemu:///session domstate 'x'\\''y'`,
    );
  });

  it('refuses an empty command and an executable that is not a plain name or path', () => {
    expect(() => shellCommandLine([])).toThrow(InvalidSshArgument);
    expect(() => shellCommandLine(['X=1'])).toThrow(InvalidSshArgument);
    expect(() => shellCommandLine(['rm -rf /'])).toThrow(InvalidSshArgument);
    expect(() => shellCommandLine(['$(id)'])).toThrow(InvalidSshArgument);
  });

  it.each(SHELLS)('round-trips every hostile argument through %s unchanged', async (shell) => {
    expect(await wordsSeenBy(shell, HOSTILE)).toEqual(HOSTILE);
  });

  it.each(SHELLS)('round-trips seeded random words over a nasty alphabet through %s', async (shell) => {
    const random = seeded(20261122);
    for (let round = 0; round < 20; round += 1) {
      const words = randomWords(random, 25);
      expect(await wordsSeenBy(shell, words)).toEqual(words);
    }
  });

  it('round-trips every byte value but NUL', async () => {
    const everyByte = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
    expect(await wordsSeenBy('/bin/sh', [everyByte])).toEqual([everyByte]);
  });
});
