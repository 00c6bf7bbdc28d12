/**
 * Composite class-validator decorators for the rules that repeat across contracts (one place says what a
 * host name, an instance id or a MiB amount is), after Immich's server/src/validation.ts.
 *
 * Must never validate with a hidden parameter: every value a rule depends on is passed to class-validator
 * as a `constraint` (or a `context` for conditions), because the schema fingerprint reads exactly those.
 * A limit kept only in a closure would let a schema change slip past the fingerprint test.
 */
// class-transformer's @Type reads emitted design types through the Reflect metadata API.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIP,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** Nova stores sizes and counts in 32-bit signed columns; no contract accepts more than that. */
export const DB_MAX_INT = 2_147_483_647;

/** Host lists in scheduling traces stay below this so one event stays small; a larger cloud needs a v2. */
export const MAX_TRACE_HOSTS = 1000;

export const PATTERNS = {
  /** Lowercase only: ids are compared as strings and appear in stream names, so one spelling per id. */
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  /** One DNS label: no dots, so a host name is a single NATS subject token and a stream-name suffix. */
  hostName: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
  sha256Hex: /^[0-9a-f]{64}$/,
  /** UTC with `Z` (what `Date.prototype.toISOString` writes), so timestamps also compare as strings. */
  utcTimestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/,
  /** Keystone user and project ids (its columns are 64 wide); service actors use their service name. */
  keystoneId: /^[A-Za-z0-9_-]{1,64}$/,
  /** Printable ASCII, no spaces: the value travels in HTTP and NATS headers. */
  correlationId: /^[\x21-\x7e]{1,128}$/,
  /** Nova's server metadata key (nova/api/validation/parameter_types.py). */
  metadataKey: /^[a-zA-Z0-9_:. -]{1,255}$/,
  /** Nova's `name` format: printable, no leading or trailing whitespace. */
  displayName: /^(?!\s)[^\p{Cc}]*(?<!\s)$/u,
  /** Nova's flavor id: no leading or trailing space. */
  flavorId: /^(?! )[a-zA-Z0-9. _-]+(?<! )$/,
  /** Nova's keypair name since microversion 2.92. */
  keyName: /^[a-zA-Z0-9 @._-]+$/,
  /** Stricter than Nova (which only forbids `:`): zone names appear in config and logs unquoted. */
  availabilityZone: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
  /** libvirt domain names; Nimbus writes `nimbus-<instance uuid>`. */
  domainName: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
  /** Contract names and scheduler filter class names: PascalCase, one NATS subject token. */
  pascalCase: /^[A-Z][A-Za-z0-9]*$/,
  /** A network prefix: an IPv4 or IPv6 address in lowercase, `/`, a prefix length. */
  cidr: /^([0-9.]{7,15}\/([0-9]|[12][0-9]|3[0-2])|[0-9a-f:]{2,39}\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$/,
  macAddress: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/,
  /** Padded standard base64 (RFC 4648 section 4), as Nova takes user data. */
  base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  /** W3C trace context's `traceparent`, version 00: trace id, parent span id, flags. */
  traceparent: /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
} as const;

/** Applies several property decorators as one. */
export function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, propertyKey) => {
    for (const decorator of decorators) decorator(target, propertyKey);
  };
}

interface EachOption {
  /** The property is an array and every element must pass. */
  readonly each?: boolean;
}

function options(message: string, each = false): ValidationOptions {
  return { each, message: each ? `each value in $property ${message}` : `$property ${message}` };
}

// ---------------------------------------------------------------------------------------------------------
// Presence: class-validator's IsOptional accepts null as well as undefined, which would let `null` into a
// field typed `string | undefined`. These two say exactly which absence a field allows.
// ---------------------------------------------------------------------------------------------------------

/** The property may be absent (undefined); null is still rejected by the property's other rules. */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined, {
    context: { presence: 'optional' },
  });
}

/** The property must be present and may be null; absence is rejected by the property's other rules. */
export function Nullable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== null, {
    context: { presence: 'nullable' },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------------------

export function IsLowercaseUuid(opts: EachOption = {}): PropertyDecorator {
  return compose(
    IsString(options('must be a string', opts.each)),
    Matches(PATTERNS.uuid, options('must be a lowercase UUID', opts.each)),
  );
}

/** A list of at most `max` distinct lowercase UUIDs (a port's security groups). */
export function IsUuidList(max: number): PropertyDecorator {
  return compose(
    IsArray(options('must be an array')),
    ArrayMaxSize(max, options(`must hold at most ${max} ids`)),
    ArrayUnique(options('must not repeat an id')),
    IsLowercaseUuid({ each: true }),
  );
}

/** An instance id: the suffix of its `instance-<uuid>` stream. */
export function IsInstanceId(): PropertyDecorator {
  return IsLowercaseUuid();
}

export function IsHostName(opts: EachOption = {}): PropertyDecorator {
  return compose(
    IsString(options('must be a string', opts.each)),
    Matches(
      PATTERNS.hostName,
      options('must be a host name (one lowercase DNS label, 1-63 chars)', opts.each),
    ),
  );
}

/** A list of distinct host names, bounded so a scheduling trace stays a small event. */
export function IsHostNameList(max: number = MAX_TRACE_HOSTS): PropertyDecorator {
  return compose(
    IsArray(options('must be an array of host names')),
    ArrayMaxSize(max, options(`must hold at most ${max} host names`)),
    ArrayUnique(options('must not repeat a host')),
    IsHostName({ each: true }),
  );
}

/** An IPv4 or IPv6 address in its usual text form. */
export function IsIpAddress(version: 4 | 6): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    IsIP(version, options(`must be an IPv${version} address`)),
  );
}

/** An IPv4 or IPv6 address in canonical text form (IPv6 compressed, lowercase), one or a list. */
export function IsAnyIpAddress(opts: EachOption = {}): PropertyDecorator {
  return compose(
    IsString(options('must be a string', opts.each)),
    IsIP(undefined, options('must be an IPv4 or IPv6 address', opts.each)),
  );
}

/** A list of at most `max` IPv4 or IPv6 addresses (a subnet's DNS servers). */
export function IsIpAddressList(max: number): PropertyDecorator {
  return compose(
    IsArray(options('must be an array')),
    ArrayMaxSize(max, options(`must hold at most ${max} addresses`)),
    IsAnyIpAddress({ each: true }),
  );
}

/** A network prefix in CIDR notation, its host bits zero (`10.0.0.0/24`, `fd00::/64`). */
export function IsCidr(): PropertyDecorator {
  return IsPattern(PATTERNS.cidr, 'a network prefix in CIDR notation', 43);
}

/** An Ethernet MAC address, six lowercase hex octets separated by colons. */
export function IsMacAddress(): PropertyDecorator {
  return IsPattern(PATTERNS.macAddress, 'a MAC address in six lowercase colon-separated octets', 17);
}

export function IsSha256Hex(): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    Matches(PATTERNS.sha256Hex, options('must be a SHA-256 digest in 64 lowercase hex characters')),
  );
}

export function IsKeystoneId(): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    Matches(PATTERNS.keystoneId, options('must be 1-64 characters of letters, digits, _ or -')),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------------------

/** An integer in [min, max]; max defaults to the 32-bit column limit. */
export function IsBoundedInt(min: number, max: number = DB_MAX_INT): PropertyDecorator {
  return compose(
    IsInt(options('must be an integer')),
    Min(min, options(`must be at least ${min}`)),
    Max(max, options(`must be at most ${max}`)),
  );
}

/** A positive integer amount of MiB (memory). */
export function IsMib(): PropertyDecorator {
  return IsBoundedInt(1);
}

/** A non-negative integer amount of GiB (disk); 0 is Nova's "size the root disk from the image". */
export function IsGib(): PropertyDecorator {
  return IsBoundedInt(0);
}

export function IsFlag(): PropertyDecorator {
  return IsBoolean(options('must be true or false'));
}

export function IsFiniteNumber(): PropertyDecorator {
  return IsNumber({ allowNaN: false, allowInfinity: false }, options('must be a finite number'));
}

/** Nova's allocation ratios: capacity = (total - reserved) * ratio. */
export function IsAllocationRatio(): PropertyDecorator {
  return compose(IsFiniteNumber(), IsPositive(options('must be greater than 0')));
}

// ---------------------------------------------------------------------------------------------------------
// Text and time
// ---------------------------------------------------------------------------------------------------------

/** A string of min..max characters. */
export function IsText(min: number, max: number): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    Length(min, max, options(`must be ${min}-${max} characters`)),
  );
}

/** A string matching `pattern` (which `description` explains), of at most `max` characters. */
export function IsPattern(pattern: RegExp, description: string, max = 255): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    Length(1, max, options(`must be 1-${max} characters`)),
    Matches(pattern, options(`must be ${description}`)),
  );
}

/** A user-facing name: 1..max printable characters, no leading or trailing whitespace (Nova's `name`). */
export function IsDisplayName(max = 255): PropertyDecorator {
  return IsPattern(PATTERNS.displayName, 'printable with no leading or trailing whitespace', max);
}

/** A Nova availability zone name, as hosts are registered in and boots ask for. */
export function IsAvailabilityZone(): PropertyDecorator {
  return IsPattern(PATTERNS.availabilityZone, 'an availability zone name (letters, digits, "_", ".", "-")');
}

/** A keypair name as Nova accepts it since microversion 2.92. */
export function IsKeyName(): PropertyDecorator {
  return IsPattern(PATTERNS.keyName, 'a keypair name (letters, digits, space, "@", ".", "_", "-")');
}

/** A flavor id as Nova accepts it: no leading or trailing space. */
export function IsFlavorId(): PropertyDecorator {
  return IsPattern(PATTERNS.flavorId, 'a flavor id (letters, digits, ".", "_", "-", inner spaces)');
}

/** An ISO 8601 instant in UTC (`2025-01-31T12:00:00.000Z`): a real calendar date, ending in `Z`. */
export function IsTimestamp(): PropertyDecorator {
  return compose(
    IsString(options('must be a string')),
    Matches(PATTERNS.utcTimestamp, options('must be an ISO 8601 UTC timestamp ending in Z')),
    IsISO8601({ strict: true, strictSeparator: true }, options('must be a valid calendar date and time')),
  );
}

/** One of a closed set of values; the message lists them. */
export function IsOneOf(values: readonly (string | number)[], opts: EachOption = {}): PropertyDecorator {
  return IsIn([...values], options(`must be one of: ${values.join(', ')}`, opts.each));
}

/** A non-empty list of distinct members of a closed set (a set of roles, say). */
export function IsSubsetOf(values: readonly (string | number)[]): PropertyDecorator {
  return compose(
    IsArray(options('must be an array')),
    ArrayMinSize(1, options('must not be empty')),
    ArrayMaxSize(values.length, options(`must hold at most ${values.length} values`)),
    ArrayUnique(options('must not repeat a value')),
    IsOneOf(values, { each: true }),
  );
}

export interface StringMapRules {
  readonly maxEntries: number;
  readonly keyPattern: RegExp;
  readonly maxValueLength: number;
}

/** A flat string-to-string object, such as Nova's server metadata. */
export function IsStringMap(rules: StringMapRules): PropertyDecorator {
  const { maxEntries, keyPattern, maxValueLength } = rules;
  return ValidateBy({
    name: 'isStringMap',
    constraints: [maxEntries, keyPattern, maxValueLength],
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        if (Object.getPrototypeOf(value) !== Object.prototype) return false;
        const entries = Object.entries(value);
        return (
          entries.length <= maxEntries &&
          entries.every(
            ([key, item]) =>
              keyPattern.test(key) && typeof item === 'string' && item.length <= maxValueLength,
          )
        );
      },
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} must be an object of at most ${maxEntries} entries, ` +
        `keys matching ${String(keyPattern)}, string values of at most ${maxValueLength} characters`,
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Nested objects. @ValidateNested alone does not tell class-transformer which class to build, and @Type alone
// does not validate; these apply both, and remember the class so the fingerprint can descend into it.
// ---------------------------------------------------------------------------------------------------------

export type ContractClass<T extends object = object> = new () => T;

const nestedClasses = new WeakMap<object, Map<string, () => ContractClass>>();

function rememberNested(target: object, property: string, type: () => ContractClass): void {
  const byProperty = nestedClasses.get(target) ?? new Map<string, () => ContractClass>();
  byProperty.set(property, type);
  nestedClasses.set(target, byProperty);
}

/** The class a nested property holds (declared by NestedObject or NestedArray), for schema fingerprints. */
export function nestedClassOf(contract: ContractClass, property: string): ContractClass | undefined {
  return nestedProperties(contract).get(property);
}

/** Every nested property of the class, its ancestors' included (the nearest declaration wins), and its class. */
export function nestedProperties(contract: ContractClass): Map<string, ContractClass> {
  const found = new Map<string, ContractClass>();
  for (
    let proto: object | null = contract.prototype as object;
    proto !== null;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const [property, type] of nestedClasses.get(proto) ?? [])
      if (!found.has(property)) found.set(property, type());
  }
  return found;
}

function NestedType(type: () => ContractClass): PropertyDecorator {
  return (target, propertyKey) => {
    rememberNested(target, String(propertyKey), type);
    Type(type)(target, propertyKey);
  };
}

/** A nested object validated by its own class's rules (unknown properties inside it are rejected too). */
export function NestedObject(type: () => ContractClass): PropertyDecorator {
  return compose(
    IsObject(options('must be an object')),
    ValidateNested(options('must be a valid object')),
    NestedType(type),
  );
}

/** An array of at most maxSize nested objects, each validated by its class's rules. */
export function NestedArray(type: () => ContractClass, maxSize: number): PropertyDecorator {
  return compose(
    IsArray(options('must be an array')),
    ArrayMaxSize(maxSize, options(`must hold at most ${maxSize} entries`)),
    ValidateNested(options('must be a valid object', true)),
    NestedType(type),
  );
}
