/**
 * The one place where plain JSON becomes a validated contract instance and an instance becomes the JSON
 * that is written or sent; the strict class-validator options live here and nowhere else.
 * Must never coerce a value (no implicit conversion), never drop an unknown property silently, and never
 * let through a value that is not plain JSON (a Date, a bigint, a `__proto__` key).
 */
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidatorOptions } from 'class-validator';
import { passesRules, undeclaredProperties } from './compiled-rules.js';
import { instantiate } from './instances.js';
import { ContractViolation, issuesFromValidationErrors, type ContractIssue } from './errors.js';
import type { ContractClass } from './validation.js';

/** Unknown properties are errors (not stripped), at every level; errors never carry the offending values. */
export const STRICT_VALIDATION: Readonly<ValidatorOptions> = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/**
 * class-transformer skips these keys without a word, at every depth, which would hide an unknown property
 * (and a server metadata entry named `constructor` would vanish); they are rejected instead.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

/** Where the contract check happens, for the error message. */
export interface ContractLabel {
  readonly contract: string;
  readonly version: number | null;
  readonly context: string;
}

/** Problems that make `value` something other than a plain JSON value (empty when it is one). */
export function jsonIssues(value: unknown, path = ''): ContractIssue[] {
  const at = path === '' ? '(root)' : path;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number')
    return Number.isFinite(value) ? [] : [{ path: at, problems: ['must be a finite number'] }];
  if (Array.isArray(value))
    return value.flatMap((item, index) => jsonIssues(item, join(path, String(index))));
  if (typeof value === 'object') {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      return [{ path: at, problems: ['must be a plain JSON object'] }];
    }
    return Object.entries(value).flatMap(([key, item]) =>
      FORBIDDEN_KEYS.has(key)
        ? [{ path: join(path, key), problems: [`property ${key} is not allowed`] }]
        : jsonIssues(item, join(path, key)),
    );
  }
  return [{ path: at, problems: [`must be JSON, not ${typeof value}`] }];
}

/** Problems that make `value` something other than a plain JSON object (the shape of every payload). */
export function jsonObjectIssues(value: unknown): ContractIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ path: '(root)', problems: ['must be a JSON object'] }];
  }
  return isPlainJson(value) ? [] : jsonIssues(value);
}

/** jsonIssues(value) is empty: the same walk, without building paths, for the common case. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainJson(item)) return false;
    return true;
  }
  if (typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key) || !isPlainJson((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Builds an instance of `contract` from plain JSON and validates it strictly; throws ContractViolation. */
export function conform<T extends object>(
  contract: ContractClass<T>,
  plain: unknown,
  label: ContractLabel,
): T {
  fail(label, jsonObjectIssues(plain));
  const instance = instantiate(contract, plain as object);
  // Only a value that fails a rule (or one the compiled rules do not model) meets class-validator itself.
  if (!passesRules(instance)) {
    const issues = issuesFromValidationErrors(validateSync(instance, STRICT_VALIDATION));
    fail(label, issues.length > 0 ? issues : undeclaredIssues(instance));
  }
  return instance;
}

/**
 * The plain JSON of a contract instance, validated as the class it came from: what is checked is exactly
 * what will be written. Values JSON would silently change are refused first: a Date would become a string
 * that passes a timestamp rule, a NaN would become a null that passes a nullable one.
 */
export function toValidJson(
  instance: object,
  contract: ContractClass,
  label: ContractLabel,
): Record<string, unknown> {
  fail(label, serialisationIssues(instance, ''));
  const plain: unknown = JSON.parse(JSON.stringify(instance));
  conform(contract, plain, label);
  return plain as Record<string, unknown>;
}

/** Values in an instance that JSON.stringify would drop, alter or choke on. */
function serialisationIssues(value: unknown, path: string): ContractIssue[] {
  const at = path === '' ? '(root)' : path;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return [];
    case 'number':
      return Number.isFinite(value) ? [] : [{ path: at, problems: ['must be a finite number'] }];
    case 'object': {
      if (value === null) return [];
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return [{ path: at, problems: ['must be plain data, not a Date or another object with toJSON'] }];
      }
      if (Array.isArray(value)) {
        return value.flatMap((item: unknown, index) =>
          item === undefined
            ? [{ path: join(path, String(index)), problems: ['must not be undefined inside an array'] }]
            : serialisationIssues(item, join(path, String(index))),
        );
      }
      return Object.entries(value).flatMap(([key, item]) =>
        item === undefined ? [] : serialisationIssues(item, join(path, key)),
      );
    }
    default:
      return [{ path: at, problems: [`must be JSON, not ${typeof value}`] }];
  }
}

/**
 * The plain-data shape of a contract class: what a caller writes as an object literal, nested values
 * included. Contract classes hold data only, so an instance is also a valid Plain of its class.
 */
export type Plain<T> = T extends readonly (infer Item)[]
  ? readonly Plain<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: Plain<T[K]> }
    : T;

/**
 * Makes a contract instance from plain data, nested objects included: `build(DomainStarted, {...})`.
 * It does not validate (encoding does); it gives nested values their classes so validation can see them.
 */
export function build<T extends object>(contract: ContractClass<T>, data: Plain<T>): T {
  return plainToInstance(contract, data);
}

/** What class-validator's whitelist missed: properties named like Object.prototype members. */
function undeclaredIssues(instance: object): ContractIssue[] {
  return undeclaredProperties(instance).map((path) => ({
    path,
    problems: [`property ${path.slice(path.lastIndexOf('.') + 1)} is not allowed`],
  }));
}

function fail(label: ContractLabel, issues: readonly ContractIssue[]): void {
  if (issues.length > 0) {
    throw new ContractViolation(label.contract, label.version, issues, { context: label.context });
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
