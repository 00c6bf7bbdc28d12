/**
 * Schema fingerprints, after Nova's notification object hash test: a stable digest of a contract class's
 * validation rules read from class-validator's metadata storage (property names, rule names, constraints,
 * conditions, and the rules of nested classes). fingerprints.json records one per `Type.vN`; a digest that
 * changes under an unchanged version means stored events of that version may no longer decode.
 * Must never include what does not change what a schema accepts (messages, class names, declaration order),
 * or an innocent edit would demand a version bump.
 */
import { createHash } from 'node:crypto';
import { getMetadataStorage, ValidationTypes, type MetadataStorage } from 'class-validator';
import { ContractViolation } from './errors.js';
import { nestedClassOf, type ContractClass } from './validation.js';

/** class-validator does not export this type from its entry point. */
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

export interface PropertySchema {
  /** One canonical string per rule, sorted: `matches(["/^[a-z]$/"])`, `isIn[each]([["a","b"]])`. */
  readonly rules: readonly string[];
  readonly nested?: SchemaDescription;
}

export type SchemaDescription = Readonly<Record<string, PropertySchema>>;

/** The canonical description of a class's schema, nested classes inlined (by shape, not by name). */
export function describeSchema(contract: ContractClass): SchemaDescription {
  return describe(contract, []);
}

/** A 32-hex-digit SHA-256 of the canonical description. */
export function fingerprintOf(contract: ContractClass): string {
  return createHash('sha256')
    .update(canonicalJson(describeSchema(contract)))
    .digest('hex')
    .slice(0, 32);
}

function describe(contract: ContractClass, ancestors: readonly ContractClass[]): SchemaDescription {
  if (ancestors.includes(contract)) {
    throw new ContractViolation(contract.name, null, [
      { path: '(root)', problems: ['nests itself; schemas must be trees'] },
    ]);
  }
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(contract, '', true, false)) {
    byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);
  }
  const description: Record<string, PropertySchema> = {};
  for (const property of [...byProperty.keys()].sort()) {
    const metadatas = byProperty.get(property) ?? [];
    const rules = metadatas.map(ruleOf).sort();
    if (!metadatas.some((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)) {
      description[property] = { rules };
      continue;
    }
    const nested = nestedClassOf(contract, property);
    if (nested === undefined) {
      throw new ContractViolation(contract.name, null, [
        {
          path: property,
          problems: ['validates a nested value without naming its class: use NestedObject or NestedArray'],
        },
      ]);
    }
    description[property] = { rules, nested: describe(nested, [...ancestors, contract]) };
  }
  return description;
}

function ruleOf(metadata: ValidationMetadata): string {
  const name = metadata.name ?? metadata.type;
  const each = metadata.each ? '[each]' : '';
  const context = metadata.context === undefined ? '' : ` ${canonicalJson(metadata.context)}`;
  return `${name}${each}(${canonicalJson(metadata.constraints)})${context}`;
}

/** JSON with sorted keys; regular expressions by source and flags; functions by a placeholder. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof RegExp) return String(value);
  // A condition's meaning cannot be read from a function (and coverage tools rewrite its source), so rules
  // carry it in `context` instead: see Optional and Nullable.
  if (typeof value === 'function') return '<function>';
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
