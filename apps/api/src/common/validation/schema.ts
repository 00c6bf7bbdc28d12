/**
 * Request bodies and query strings checked against JSON Schema (the draft 4 subset Nova uses) by ajv,
 * reporting the one error Nova's validation would report, in its words ("Invalid input for field/attribute
 * name. Value: 1. 1 is not of type 'string'"), so clients and their users see what they would see against
 * Nova. Nova validates its API with JSON Schema per microversion; mirroring that form keeps each schema
 * readable beside the API reference, which class-validator DTOs would not.
 * What is ours here is only what ajv does not do: Nova's formats, its numeric strings under `minimum` and
 * `maximum`, the order in which the first error is found, and the wording. Must never coerce a value: what
 * passes is used exactly as sent.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';

import { PATTERNS } from '#libs/contracts';

import { pyRepr } from './python-repr.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** Nova's `uuid` format: any case, hyphens optional; not PATTERNS.uuid, which is the one spelling ids are stored in. */
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
/** Nova's `name` format: printable characters, no leading or trailing whitespace. */
const NAME = /^(?![\s])[^\p{Cc}\p{Cs}]*(?<![\s])$/u;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Nova's formats (ajv ships none; ajv-formats' `uuid` would refuse Nova's hyphen-less ids). */
const FORMATS = {
  uuid: (value: string) => UUID.test(value),
  name: (value: string) => NAME.test(value),
  base64: (value: string) => PATTERNS.base64.test(value),
  'date-time': (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)),
  ipv4: (value: string) => IPV4.test(value),
  ipv6: (value: string) => /^[0-9a-fA-F:.]+$/.test(value) && value.includes(':'),
  regex: (value: string) => {
    try {
      new RegExp(value, 'u');
      return true;
    } catch {
      return false;
    }
  },
} satisfies Record<string, (value: string) => boolean>;

export type Format = keyof typeof FORMATS;

/** The keywords Nimbus's schemas use; ajv's strict mode refuses any other at compile time. */
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
  /** Property names and indexes (as text) from the root to the value that failed. */
  readonly path: readonly string[];
  readonly value: unknown;
  readonly message: string;
}

const ajv = new Ajv({
  // Nova reports one error: stop at the first, in the keyword order set below.
  allErrors: false,
  // Errors carry the failing value and its schema, which Nova's wording quotes.
  verbose: true,
  ownProperties: true,
  // A keyword ajv does not know (a typo) or a format not defined below fails when the schema compiles.
  strictSchema: true,
  // Otherwise a schema means what JSON Schema says: a keyword constrains the values of its type whether or
  // not the schema names that type, `required` may name properties `properties` does not describe, and a
  // key both named in `properties` and matching a `patternProperties` pattern meets both schemas.
  strictTypes: false,
  strictRequired: false,
  allowMatchingProperties: true,
});
for (const [name, validate] of Object.entries(FORMATS)) ajv.addFormat(name, validate);

/**
 * ajv checks a schema's keywords in groups (untyped ones such as enum and oneOf, then number, string,
 * array and object ones, then "post" ones), each group in the order its keywords were added, and stops at
 * the first failure. Re-adding a built-in keyword moves it to the end of its group (or into the post
 * group), which makes the first failure the one Nimbus has always reported: type; enum; string length,
 * pattern, format, then `minimum`/`maximum`; array length, uniqueness, then items; object size,
 * properties, patternProperties, then required, then additionalProperties; oneOf, then anyOf, last.
 * (ajv's own order checks required and additionalProperties before properties, and oneOf before all
 * typed keywords.) The spec pins this order, so an ajv upgrade that changes it fails there.
 */
function moveToEnd(keyword: string, change: { readonly post?: true } = {}): void {
  const definition = ajv.getKeyword(keyword);
  if (typeof definition !== 'object') throw new Error(`ajv has no keyword ${keyword}`);
  ajv.removeKeyword(keyword);
  ajv.addKeyword({ ...definition, keyword, ...change });
}
moveToEnd('required');
moveToEnd('additionalProperties');
moveToEnd('oneOf', { post: true });
moveToEnd('anyOf', { post: true });
// ajv defers the type check of a schema with one type and keywords of that type (`{type: 'string', enum,
// maxLength}`) into that type's group, after enum and the groups before it. Marking the four grouped types
// as plain ones, as ajv marks integer, boolean and null, makes it check every `type` before any keyword.
for (const type of ['number', 'string', 'array', 'object'] as const) ajv.RULES.types[type] = true;

function numeric(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return null;
}

// Nova's `minimum` and `maximum` also bound strings that read as numbers ('0' for min_count), after the
// string's own checks; other strings pass them.
for (const [keyword, within] of [
  ['minimum', (number: number, limit: number) => number >= limit],
  ['maximum', (number: number, limit: number) => number <= limit],
] as const) {
  ajv.removeKeyword(keyword);
  ajv.addKeyword({
    keyword,
    type: ['number', 'string'],
    schemaType: 'number',
    errors: false,
    validate: (limit: number, value: unknown) => {
      const number = numeric(value);
      return number === null || within(number, limit);
    },
  });
}

// Items are unique by their JSON text, whatever their type, checked before `items`: ajv's own check runs
// after `items` and skips items of another type than `items` names, so `[1, 1]` under string items would
// be reported as "1 is not of type 'string'" instead of "[1, 1] has non-unique elements".
ajv.removeKeyword('uniqueItems');
ajv.addKeyword({
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  before: 'additionalItems',
  errors: false,
  validate: (unique: boolean, items: readonly unknown[]) =>
    !unique || new Set(items.map((item) => JSON.stringify(item))).size === items.length,
});

/**
 * Compiled once per schema. Controllers build their schemas per request and microversion, so a schema
 * object seen before is found by identity, and a new object with the same content by its JSON text: a
 * fresh object per request neither recompiles nor grows ajv's own cache (which holds every schema object
 * it compiles).
 */
const byObject = new WeakMap<Schema, ValidateFunction>();
const byText = new Map<string, ValidateFunction>();

function validator(schema: Schema): ValidateFunction {
  let validate = byObject.get(schema);
  if (validate) return validate;
  const text = JSON.stringify(schema);
  validate = byText.get(text);
  if (!validate) {
    validate = ajv.compile(schema as AnySchemaObject);
    byText.set(text, validate);
  }
  byObject.set(schema, validate);
  return validate;
}

const INVALID_NAME =
  "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

/** The keys `additionalProperties: false` refuses; ajv names only the first, Nova names them all. */
function unexpectedKeys(schema: Schema, object: Readonly<Record<string, unknown>>): string[] {
  const patterns = Object.keys(schema.patternProperties ?? {}).map((pattern) => new RegExp(pattern, 'u'));
  return Object.keys(object).filter(
    (key) => !Object.hasOwn(schema.properties ?? {}, key) && !patterns.some((pattern) => pattern.test(key)),
  );
}

/** Python's jsonschema message (as Nova shows it) for one ajv error. */
function message(error: ErrorObject): string {
  const schema = error.parentSchema as Schema;
  const value = pyRepr(error.data);
  switch (error.keyword) {
    case 'type': {
      const types = typeof schema.type === 'string' ? [schema.type] : (schema.type ?? []);
      return `${value} is not of type ${types.map((type) => pyRepr(type)).join(', ')}`;
    }
    case 'enum':
      return `${value} is not one of ${pyRepr(schema.enum)}`;
    case 'minLength':
    case 'minItems':
      return `${value} is too short`;
    case 'maxLength':
    case 'maxItems':
      return `${value} is too long`;
    case 'pattern':
      return `${value} does not match ${pyRepr(schema.pattern)}`;
    case 'format':
      return schema.format === 'name' ? INVALID_NAME : `${value} is not a ${pyRepr(schema.format)}`;
    case 'minimum':
      return `${value} is less than the minimum of ${String(schema.minimum)}`;
    case 'maximum':
      return `${value} is greater than the maximum of ${String(schema.maximum)}`;
    case 'uniqueItems':
      return `${value} has non-unique elements`;
    case 'minProperties':
      return `${value} does not have enough properties`;
    case 'maxProperties':
      return `${value} has too many properties`;
    case 'required':
      return `${pyRepr((error.params as { missingProperty: string }).missingProperty)} is a required property`;
    case 'additionalProperties': {
      const extras = unexpectedKeys(schema, error.data as Record<string, unknown>);
      const names = extras.map((key) => pyRepr(key)).join(', ');
      return `Additional properties are not allowed (${names} ${extras.length === 1 ? 'was' : 'were'} unexpected)`;
    }
    case 'oneOf':
      return (error.params as { passingSchemas: unknown }).passingSchemas === null
        ? `${value} is not valid under any of the given schemas`
        : `${value} is valid under each of the given schemas`;
    case 'anyOf':
      return `${value} is not valid under any of the given schemas`;
    default:
      // Unreachable: the `Schema` type admits only the keywords worded here.
      throw new Error(`no Nova wording for the JSON Schema keyword ${error.keyword}`);
  }
}

/** JSON Pointer (`/server/networks/0`) to its property names and indexes. */
function pathOf(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The first error in the value, in the order Python's jsonschema would report it, or null. */
export function firstError(schema: Schema, value: unknown): SchemaError | null {
  const validate = validator(schema);
  if (validate(value)) return null;
  // ajv stops at the first failing keyword. A failing oneOf or anyOf keeps its branches' errors before its
  // own, and nothing runs after it, so the error to report is always the last.
  const error = validate.errors?.at(-1);
  if (!error) throw new Error('ajv refused a value without saying why');
  return { path: pathOf(error.instancePath), value: error.data, message: message(error) };
}

/** Nova's wording of a body validation error. */
export function describeBodyError(error: SchemaError): string {
  const leaf = error.path.at(-1);
  if (leaf === undefined || error.message === INVALID_NAME) return error.message;
  return `Invalid input for field/attribute ${leaf}. Value: ${pyRepr(error.value)}. ${error.message}`;
}

/** Nova's wording of a query-string validation error. */
export function describeQueryError(error: SchemaError): string {
  const first = error.path[0];
  if (first === undefined) return error.message;
  return `Invalid input for query parameters ${first}. Value: ${pyRepr(error.value)}. ${error.message}`;
}
