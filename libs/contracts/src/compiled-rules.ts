/**
 * The contracts' class-validator rules gathered once per class, so the common case (a value that
 * conforms) is checked without class-validator's per-call metadata search, which costs several times
 * more than the rules themselves: a rebuild or a fold decodes every event it reads.
 *
 * `passesRules(instance)` answers whether `validateSync(instance, STRICT_VALIDATION)` would report no
 * error. It runs the very rule objects class-validator registered (the same constraint instances, the
 * same arguments, the same `ValidateIf` conditions, `each` and nested handling, the whitelist and the
 * unknown-value rule), in the same order of decision. Anything it does not model (promise validation,
 * async rules, Sets and Maps) makes it answer false, and a false only sends the caller to
 * class-validator itself, which then gives the verdict and the messages. So the answer can cost time, never
 * correctness: only a true skips class-validator, and a true means every rule passed. One deliberate
 * difference: its whitelist also refuses a property named like an Object.prototype member, which
 * class-validator's lets through (undeclaredProperties names those for conform).
 *
 * Must never be asked about a class before its module has finished loading (its decorators, and its
 * ancestors', must all have run): the rules are read once per class and kept.
 */
import {
  getMetadataStorage,
  ValidationTypes,
  type MetadataStorage,
  type ValidationArguments,
} from 'class-validator';

/** class-validator does not export these types from its entry point. */
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type ConstraintMetadata = ReturnType<MetadataStorage['getTargetValidatorConstraints']>[number];

interface Rule {
  readonly metadata: ValidationMetadata;
  readonly constraints: readonly ConstraintMetadata[];
}

interface PropertyRules {
  readonly name: string;
  readonly conditions: readonly ((object: object, value: unknown) => boolean)[];
  readonly rules: readonly Rule[];
  readonly nested: boolean;
}

type ClassCheck = (object: Record<string, unknown>) => boolean;
type Constructor = abstract new (...args: never[]) => unknown;

const checks = new Map<unknown, ClassCheck>();

/** Whether class-validator, with the strict options contracts use, would find no error in `instance`. */
export function passesRules(instance: object): boolean {
  return passesAsObject(instance);
}

function passesAsObject(object: object): boolean {
  const constructor: unknown = (object as { constructor?: unknown }).constructor;
  if (typeof constructor !== 'function') return false;
  let check = checks.get(constructor);
  if (check === undefined) {
    check = compile(constructor as Constructor);
    checks.set(constructor, check);
  }
  return check(object as Record<string, unknown>);
}

/**
 * Own properties, at any depth of nested contract values, that no rule of their class declares, as
 * paths. class-validator's whitelist looks names up in a plain object, so it lets through a property
 * named like an Object.prototype member (`hasOwnProperty`, `valueOf`); conform refuses those by this.
 */
export function undeclaredProperties(object: object, path = ''): string[] {
  const constructor: unknown = (object as { constructor?: unknown }).constructor;
  if (typeof constructor !== 'function') return [];
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(constructor, '', false, false);
  const declared = new Set(metadatas.map((metadata) => metadata.propertyName));
  const nested = new Set(
    metadatas
      .filter((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)
      .map((metadata) => metadata.propertyName),
  );
  return Object.keys(object).flatMap((key) => {
    const at = path === '' ? key : `${path}.${key}`;
    if (!declared.has(key)) return [at];
    return nested.has(key) ? undeclaredIn((object as Record<string, unknown>)[key], at) : [];
  });
}

function undeclaredIn(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => undeclaredIn(item, `${path}.${index}`));
  return value instanceof Object ? undeclaredProperties(value, path) : [];
}

const never: ClassCheck = () => false;

function compile(constructor: Constructor): ClassCheck {
  const storage = getMetadataStorage();
  // What validateSync asks for with no groups, `always` off and `strictGroups` off.
  const metadatas = storage.getTargetValidationMetadatas(constructor, '', false, false);
  // forbidUnknownValues: an object whose class has no rules is an error.
  if (metadatas.length === 0) return never;
  const byName = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    if (typeof metadata.target === 'string') return never;
    byName.set(metadata.propertyName, [...(byName.get(metadata.propertyName) ?? []), metadata]);
  }
  const properties: PropertyRules[] = [];
  for (const [name, group] of byName) {
    const conditions: PropertyRules['conditions'][number][] = [];
    const rules: Rule[] = [];
    let nested = false;
    for (const metadata of group) {
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          conditions.push(metadata.constraints[0] as PropertyRules['conditions'][number]);
          break;
        case ValidationTypes.CUSTOM_VALIDATION:
        case ValidationTypes.IS_DEFINED:
          rules.push({
            metadata,
            constraints: storage.getTargetValidatorConstraints(metadata.constraintCls),
          });
          break;
        case ValidationTypes.NESTED_VALIDATION:
          nested = true;
          break;
        case ValidationTypes.WHITELIST:
          break;
        default:
          return never;
      }
    }
    properties.push({ name, conditions, rules, nested });
  }
  const allowed = new Set(byName.keys());
  const targetName = constructor.name;

  return (object) => {
    // whitelist with forbidNonWhitelisted: a property without rules is an error.
    for (const key of Object.keys(object)) if (!allowed.has(key)) return false;
    for (const property of properties) {
      const value = object[property.name];
      // Every condition is evaluated, as class-validator does; any false skips the property.
      let validate = true;
      for (const condition of property.conditions) validate = condition(object, value) && validate;
      if (!validate) continue;
      for (const { metadata, constraints } of property.rules) {
        if (metadata.validateIf && !metadata.validateIf(object, value)) continue;
        const args: ValidationArguments = {
          targetName,
          property: metadata.propertyName,
          object,
          value,
          constraints: metadata.constraints,
        };
        for (const constraint of constraints) {
          // validateSync ignores async rules.
          if (constraint.async) continue;
          if (!passesConstraint(constraint, metadata.each, value, args)) return false;
        }
      }
      if (property.nested && value !== undefined && !passesNested(value)) return false;
    }
    return true;
  };
}

function passesConstraint(
  constraint: ConstraintMetadata,
  each: boolean,
  value: unknown,
  args: ValidationArguments,
): boolean {
  if (value instanceof Set || value instanceof Map) return false;
  const values = each && Array.isArray(value) ? (value as unknown[]) : [value];
  for (const item of values) {
    const verdict: unknown = constraint.instance.validate(item, args);
    if (!verdict || isThenable(verdict)) return false;
  }
  return true;
}

/** A nested value: an object of a class with rules, or an array whose every element is one (or undefined). */
function passesNested(value: unknown): boolean {
  if (value instanceof Set || value instanceof Map) return false;
  if (Array.isArray(value)) return value.every((item) => item === undefined || passesNested(item));
  return value instanceof Object && passesAsObject(value);
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
