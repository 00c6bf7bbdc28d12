/**
 * Turns an argument vector into the one string an SSH `exec` request carries. sshd hands that string to
 * the host user's login shell (`$SHELL -c`), so every argument is quoted for a POSIX shell (sh, dash,
 * bash, zsh) and the shell's only job is to split it back into exactly these words.
 * Must never let any character of an argument act as shell syntax, and never be bypassed: every command
 * run on a host through SshSession.exec is built by shellCommandLine. Host users need a POSIX login shell.
 */
import { InvalidSshArgument } from './errors.js';

/** Words made only of these need no quotes in any POSIX shell, wherever they stand. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+,./:-]+$/;

/** An executable is a plain name or path; `=` would make a bare first word an assignment instead. */
const EXECUTABLE = /^[A-Za-z0-9_./-]+$/;

/**
 * One argument as a shell word: left bare when it is plainly safe, otherwise wrapped in single quotes,
 * inside which nothing is special except the quote itself, written as `'\''` (close, escaped quote, open).
 * A NUL cannot be passed in an argument at all (C strings end there), so it is refused, not dropped.
 */
export function quoteShellArg(arg: string): string {
  if (typeof arg !== 'string') throw new InvalidSshArgument('shell arguments must be strings');
  if (arg.includes('\0')) throw new InvalidSshArgument('a shell argument cannot contain a NUL character');
  if (PLAIN_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command line for an executable and its arguments; the executable must be a plain name or path. */
export function shellCommandLine(argv: readonly string[]): string {
  const [executable] = argv;
  if (executable === undefined || !EXECUTABLE.test(executable)) {
    throw new InvalidSshArgument('a command must start with a plain executable name or path');
  }
  return argv.map(quoteShellArg).join(' ');
}
