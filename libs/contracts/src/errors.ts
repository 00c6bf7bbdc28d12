/**
 * The one error this library throws: a payload, an envelope, a name or a registration broke its contract.
 * It must never carry the offending values (a console token or a secret could be among them): it names
 * the contract, its version and each property's problem, nothing more.
 */
import type { ValidationError } from 'class-validator';

/** One property's problems; `path` is dotted from the payload root (`flavor.ramMb`, `trace.filters.0`). */
export interface ContractIssue {
  readonly path: string;
  readonly problems: readonly string[];
}

export interface ContractViolationOptions {
  /** What was being done when the contract broke, e.g. `decode (stored as v1, upcast to v2)`. */
  readonly context?: string;
  readonly cause?: unknown;
}

export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';

  constructor(
    /** The event type, command name or envelope (`EventMetadata`) whose contract broke. */
    readonly contract: string,
    /** The schema version checked against; null when the contract itself is unknown. */
    readonly version: number | null,
    readonly issues: readonly ContractIssue[],
    options: ContractViolationOptions = {},
  ) {
    super(
      formatMessage(contract, version, issues, options.context),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

function formatMessage(
  contract: string,
  version: number | null,
  issues: readonly ContractIssue[],
  context: string | undefined,
): string {
  const subject = version === null ? contract : `${contract} v${version}`;
  const during = context === undefined ? '' : ` (${context})`;
  const lines = issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.problems.join('; ')}`);
  return [`${subject} violates its contract${during}:`, ...lines].join('\n');
}

/** Flattens class-validator's error tree into one issue per property path. */
export function issuesFromValidationErrors(errors: readonly ValidationError[], parent = ''): ContractIssue[] {
  const issues: ContractIssue[] = [];
  for (const error of errors) {
    const path = parent === '' ? error.property : `${parent}.${error.property}`;
    const problems = Object.values(error.constraints ?? {});
    if (problems.length > 0) issues.push({ path, problems });
    if (error.children !== undefined && error.children.length > 0) {
      issues.push(...issuesFromValidationErrors(error.children, path));
    }
  }
  return issues;
}
