/**
 * A small JSON Schema (draft 4 subset) validator for request bodies and query strings, with the messages
 * Nova's validation gives ("Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'"),
 * so clients and their users see what they would see against Nova.
 * Nova validates its API with JSON Schema per microversion; mirroring that form keeps each schema readable
 * beside the API reference, which class-validator DTOs would not. Must never coerce a value: what passes
 * is used exactly as sent.
 */
import { pyRepr } from './python-repr.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export type Format = 'uuid' | 'name' | 'base64' | 'date-time' | 'ipv4' | 'ipv6' | 'regex';

export interface Schema {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  /** Keys matching the pattern (a regular expression source) must match the schema. */
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A regular expression source, matched with the `u` flag as Python's `re.search` would. */
  readonly pattern?: string;
  readonly format?: Format;
  readonly enum?: readonly unknown[];
  /** Numbers, and strings that read as numbers (Nova accepts both for counts). */
  readonly minimum?: number;
  readonly maximum?: number;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
}

export interface SchemaError {
  /** Property names and indexes from the root to the value that failed. */
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  readonly message: string;
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Nova's `name` format: printable characters, no leading or trailing whitespace. */
const NAME = /^(?![\s])[^\p{Cc}\p{Cs}]*(?<![\s])$/u;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

const patternCache = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let compiled = patternCache.get(source);
  if (!compiled) {
    compiled = new RegExp(source, 'u');
    patternCache.set(source, compiled);
  }
  return compiled;
}

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return 'object';
}

function matchesType(value: unknown, type: JsonType): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function numeric(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return null;
}

function checkFormat(format: Format, value: string): boolean {
  switch (format) {
    case 'uuid':
      return UUID.test(value);
    case 'name':
      return NAME.test(value);
    case 'base64':
      return BASE64.test(value);
    case 'date-time':
      return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
    case 'ipv4':
      return /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(value);
    case 'ipv6':
      return /^[0-9a-fA-F:.]+$/.test(value) && value.includes(':');
    case 'regex':
      try {
        new RegExp(value, 'u');
        return true;
      } catch {
        return false;
      }
  }
}

function formatMessage(format: Format, value: string): string {
  if (format === 'name') {
    return "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";
  }
  return `${pyRepr(value)} is not a ${pyRepr(format)}`;
}

/** The first error in the value, in the order Python's jsonschema would report it, or null. */
export function firstError(
  schema: Schema,
  value: unknown,
  path: readonly (string | number)[] = [],
): SchemaError | null {
  const fail = (message: string): SchemaError => ({ path, value, message });

  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((type) => matchesType(value, type))) {
      return fail(`${pyRepr(value)} is not of type ${types.map((type) => pyRepr(type)).join(', ')}`);
    }
  }
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
    return fail(`${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`);
  }
  if (typeof value === 'string') {
    // Python counts code points, not UTF-16 units: a surrogate pair is one character.
    const length = value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
    if (schema.minLength !== undefined && length < schema.minLength)
      return fail(`${pyRepr(value)} is too short`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      return fail(`${pyRepr(value)} is too long`);
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) {
      return fail(`${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`);
    }
    if (schema.format !== undefined && !checkFormat(schema.format, value))
      return fail(formatMessage(schema.format, value));
  }
  const number = schema.minimum !== undefined || schema.maximum !== undefined ? numeric(value) : null;
  if (number !== null) {
    if (schema.minimum !== undefined && number < schema.minimum) {
      return fail(`${pyRepr(value)} is less than the minimum of ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && number > schema.maximum) {
      return fail(`${pyRepr(value)} is greater than the maximum of ${schema.maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return fail(`${pyRepr(value)} is too short`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return fail(`${pyRepr(value)} is too long`);
    if (schema.uniqueItems && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) {
      return fail(`${pyRepr(value)} has non-unique elements`);
    }
    if (schema.items) {
      for (const [index, item] of value.entries()) {
        const error = firstError(schema.items, item, [...path, index]);
        if (error) return error;
      }
    }
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) {
      return fail(`${pyRepr(value)} does not have enough properties`);
    }
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
      return fail(`${pyRepr(value)} has too many properties`);
    }
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (!Object.hasOwn(object, name)) continue;
      const error = firstError(property, object[name], [...path, name]);
      if (error) return error;
    }
    for (const [pattern, property] of Object.entries(schema.patternProperties ?? {})) {
      for (const key of keys) {
        if (!regex(pattern).test(key)) continue;
        const error = firstError(property, object[key], [...path, key]);
        if (error) return error;
      }
    }
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(object, name)) return fail(`${pyRepr(name)} is a required property`);
    }
    const additional = schema.additionalProperties;
    if (additional !== undefined && additional !== true) {
      const extras = keys.filter(
        (key) =>
          !Object.hasOwn(schema.properties ?? {}, key) &&
          !Object.keys(schema.patternProperties ?? {}).some((pattern) => regex(pattern).test(key)),
      );
      if (additional === false && extras.length > 0) {
        const names = extras.map((key) => pyRepr(key)).join(', ');
        return fail(
          `Additional properties are not allowed (${names} ${extras.length === 1 ? 'was' : 'were'} unexpected)`,
        );
      }
      if (typeof additional === 'object') {
        for (const key of extras) {
          const error = firstError(additional, object[key], [...path, key]);
          if (error) return error;
        }
      }
    }
  }
  if (schema.oneOf) {
    const valid = schema.oneOf.filter((option) => firstError(option, value, path) === null).length;
    if (valid === 0) return fail(`${pyRepr(value)} is not valid under any of the given schemas`);
    if (valid > 1) return fail(`${pyRepr(value)} is valid under each of the given schemas`);
  }
  if (schema.anyOf && !schema.anyOf.some((option) => firstError(option, value, path) === null)) {
    return fail(`${pyRepr(value)} is not valid under any of the given schemas`);
  }
  return null;
}

/** Nova's wording of a body validation error. */
export function describeBodyError(error: SchemaError): string {
  const leaf = error.path.at(-1);
  if (leaf === undefined || error.message.startsWith("An invalid 'name'")) return error.message;
  return `Invalid input for field/attribute ${String(leaf)}. Value: ${pyRepr(error.value)}. ${error.message}`;
}

/** Nova's wording of a query-string validation error. */
export function describeQueryError(error: SchemaError): string {
  const first = error.path[0];
  if (first === undefined) return error.message;
  return `Invalid input for query parameters ${String(first)}. Value: ${pyRepr(error.value)}. ${error.message}`;
}
