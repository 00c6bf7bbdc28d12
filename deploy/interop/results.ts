/**
 * What a Tempest run said about each test of the guideline: read from `tempest run`'s own console
 * output (one `{worker} name [time] ... ok | FAILED | SKIPPED: reason` line a test, each failure's
 * captured traceback after it), matched to the guideline's tests by name without tags. A class whose
 * set-up was skipped or failed decides every test of that class; a test the run never mentions is
 * reported as not run, which counts as a failure.
 */

export interface GuidelineTest {
  readonly capability: string;
  /** The exact Tempest name, tags included (`...test_list_flavors[id-...,smoke]`). */
  readonly name: string;
}

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult extends GuidelineTest {
  readonly outcome: Outcome;
  /** Why it failed or was skipped, in one line. */
  readonly reason: string | null;
}

/** Reads the guideline file: `capability<TAB>test name` lines; `#` comments and blank lines ignored. */
export function parseGuideline(text: string): GuidelineTest[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, index) => {
      const [capability, name, ...rest] = line.split('\t');
      if (!capability || !name || rest.length > 0)
        throw new Error(`guideline line ${index + 1} is not "capability<TAB>test name": ${line}`);
      return { capability, name };
    });
}

/** A test's name without its `[id-...,smoke]` tags, as Tempest prints it while running. */
export const untagged = (name: string): string => name.replace(/\[[^\]]*\]$/, '');

const RESULT_LINE = /^\{\d+\} (\S+)(?: \[[\d.]+s\])? \.\.\. (ok|FAILED|SKIPPED(?::\s*(.*))?)$/;
const CLASS_LINE = /^\{\d+\} setUpClass \((\S+)\)(?: \[[\d.]+s\])? \.\.\. (ok|FAILED|SKIPPED(?::\s*(.*))?)$/;
/** The exception line at the end of a traceback: a dotted name, a colon, the message. */
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*): (.*)$/;
const MAX_REASON = 200;

interface Seen {
  readonly outcome: Outcome;
  readonly reason: string | null;
}

export function parseRun(output: string, guideline: readonly GuidelineTest[]): TestResult[] {
  const lines = output.split('\n');
  const byTest = new Map<string, Seen>();
  const byClass = new Map<string, Seen>();
  for (const [index, line] of lines.entries()) {
    const test = RESULT_LINE.exec(line);
    const setUp = test ? null : CLASS_LINE.exec(line);
    const match = test ?? setUp;
    if (!match) continue;
    const [, name = '', status, skipReason] = match;
    const seen: Seen =
      status === 'ok'
        ? { outcome: 'passed', reason: null }
        : status === 'FAILED'
          ? { outcome: 'failed', reason: failureReason(lines, index + 1) }
          : { outcome: 'skipped', reason: skipReason?.trim() || 'skipped' };
    (test ? byTest : byClass).set(name, seen);
  }
  return guideline.map((entry) => {
    const name = untagged(entry.name);
    const seen = byTest.get(name) ?? byClass.get(name.slice(0, name.lastIndexOf('.'))) ?? notRun;
    return { ...entry, ...seen };
  });
}

const notRun: Seen = { outcome: 'failed', reason: 'not run (not found in the output of the run)' };

/** The exception that ended the traceback after a FAILED line, with Tempest's `Details:` if any. */
function failureReason(lines: readonly string[], from: number): string {
  let exception: string | null = null;
  let details: string | null = null;
  for (const raw of lines.slice(from)) {
    const line = raw.trim();
    if (/^\{\d+\} /.test(raw) || /^(Captured pythonlogging|={3,})/.test(line)) break;
    if (line.startsWith('Details: ')) details = line.slice('Details: '.length);
    else {
      const [, name = '', message = ''] = EXCEPTION_LINE.exec(line) ?? [];
      if (name) exception = `${name.split('.').pop() ?? name}: ${message}`;
    }
  }
  const reason = [exception ?? 'failed', details].filter((part) => part !== null).join(' ');
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

export interface Summary {
  readonly interopPassed: number;
  readonly interopFailed: number;
  readonly interopSkipped: number;
  readonly interopTotal: number;
}

export function summarize(results: readonly TestResult[]): Summary {
  const count = (outcome: Outcome): number => results.filter((result) => result.outcome === outcome).length;
  return {
    interopPassed: count('passed'),
    interopFailed: count('failed'),
    interopSkipped: count('skipped'),
    interopTotal: results.length,
  };
}
