/**
 * Declares an option once: `@Option({ env, doc, ... }, ...rules)` on a config class's field names its
 * environment variable (and command-line flag, if any), says what it is for, applies the validation
 * rules, and records all of it as class metadata. `--help`, the documented options tables and their
 * spec are derived from that metadata, so an option cannot exist undocumented.
 * Must never hold a value read from the environment: the metadata is the declaration, not the config.
 */
import 'reflect-metadata';
import { Expose } from 'class-transformer';
import { IsOptional } from 'class-validator';

export interface OptionSpec {
  /** The environment variable it is read from. */
  readonly env: string;
  /** What it is for, in one line. */
  readonly doc: string;
  /**
   * The default in words, when the field's initial value does not say it (unset with a meaning, or
   * derived at start). Otherwise the initial value is the documented default.
   */
  readonly default?: string;
  /** The values accepted, in words, when the rules do not speak for themselves. */
  readonly allowed?: string;
  /** A command-line flag (`--<flag>`) that wins over the variable. */
  readonly flag?: string;
  /** The option may be left unset (the field then stays undefined). */
  readonly optional?: boolean;
}

/** One documented option: what `--help` prints and the tables show. */
export interface OptionDoc {
  readonly property: string;
  readonly env: string;
  readonly flag?: string;
  readonly description: string;
  readonly default: string;
  readonly allowed?: string;
}

type Declared = OptionSpec & { readonly property: string };

const OPTIONS = Symbol('nimbus:config-options');

export const compose =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorator of decorators) decorator(target, property);
  };

/** The one way a config class declares an option; `rules` are class-validator/-transformer decorators. */
export function Option(spec: OptionSpec, ...rules: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => {
    if (typeof property !== 'string') throw new TypeError('an option must be a named field');
    const own: Declared[] = Reflect.hasOwnMetadata(OPTIONS, target)
      ? (Reflect.getOwnMetadata(OPTIONS, target) as Declared[])
      : [];
    if (own.some((declared) => declared.env === spec.env))
      throw new TypeError(`option ${spec.env} is declared twice`);
    Reflect.defineMetadata(OPTIONS, [...own, { ...spec, property }], target);
    compose(Expose({ name: spec.env }), ...(spec.optional ? [IsOptional()] : []), ...rules)(target, property);
  };
}

/** How a default value reads in the documentation. */
function defaultText(value: unknown, optional: boolean): string {
  if (value === undefined) return optional ? 'unset' : 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(', ');
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/**
 * Every option `Config` declares, base classes first, in declaration order, with its default taken
 * from a fresh instance unless the declaration words it.
 */
export function optionsOf(Config: new () => object): OptionDoc[] {
  const chain: object[] = [];
  for (let proto: unknown = Config.prototype; proto && proto !== Object.prototype;) {
    chain.unshift(proto);
    proto = Object.getPrototypeOf(proto) as unknown;
  }
  const defaults = new Config() as Record<string, unknown>;
  return chain.flatMap((proto) =>
    ((Reflect.getOwnMetadata(OPTIONS, proto) as Declared[] | undefined) ?? []).map((declared): OptionDoc => ({
      property: declared.property,
      env: declared.env,
      ...(declared.flag === undefined ? {} : { flag: declared.flag }),
      description: declared.doc,
      default: declared.default ?? defaultText(defaults[declared.property], declared.optional === true),
      ...(declared.allowed === undefined ? {} : { allowed: declared.allowed }),
    })),
  );
}
