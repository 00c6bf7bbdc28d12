/**
 * Contract instances from plain JSON: a new instance of the class, each property copied, and each
 * nested value (NestedObject, NestedArray) made an instance of its declared class, arrays element by
 * element; any other object becomes a fresh plain object. This is what class-transformer's
 * plainToInstance makes of a contract, less its per-call metadata lookups (decoding is on every read
 * path) and less its silent skips: it drops a key named like a member of the class or of
 * Object.prototype (`toString`, `valueOf`, ...), so a server metadata entry of that name vanished on
 * decode and an unknown top-level property of that name slipped past the whitelist. Here such a key is
 * copied like any other, so a map keeps it and the whitelist sees it.
 *
 * Must never be given anything but plain JSON (conform checks that first): it copies values as they
 * are, and skips only `__proto__` and `constructor`, which the JSON check has refused already.
 */
import { nestedProperties, type ContractClass } from './validation.js';

const nestedByClass = new Map<ContractClass, ReadonlyMap<string, ContractClass>>();

/** An instance of `contract` holding a copy of `plain`, nested contract values as their classes. */
export function instantiate<T extends object>(contract: ContractClass<T>, plain: object): T {
  const instance = new contract();
  const nested = nestedPropertiesOf(contract);
  for (const key of Object.keys(plain)) {
    if (key === '__proto__' || key === 'constructor') continue;
    const value = copy((plain as Record<string, unknown>)[key], nested.get(key));
    if (key in instance && !Object.hasOwn(instance, key)) {
      // A key named like a method or accessor of the class: an own data property, so it is seen.
      Object.defineProperty(instance, key, { value, writable: true, enumerable: true, configurable: true });
    } else {
      (instance as Record<string, unknown>)[key] = value;
    }
  }
  return instance;
}

function copy(value: unknown, contract: ContractClass | undefined): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => copy(item, contract));
  if (value === null || typeof value !== 'object') return value;
  if (contract !== undefined) return instantiate(contract, value);
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor') continue;
    plain[key] = copy((value as Record<string, unknown>)[key], undefined);
  }
  return plain;
}

/** The class's nested properties and their classes, its ancestors' included; read once per class. */
function nestedPropertiesOf(contract: ContractClass): ReadonlyMap<string, ContractClass> {
  let nested = nestedByClass.get(contract);
  if (nested === undefined) {
    nested = nestedProperties(contract);
    nestedByClass.set(contract, nested);
  }
  return nested;
}
