/**
 * What changed in a folded state between two points of a stream, field by field. Pure: two plain
 * values in, the list of differing paths out (arrays compared element-wise, objects and Maps key by key).
 */
export interface Change {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export function diffStates(beforeValue: unknown, afterValue: unknown, path = ''): Change[] {
  // A Map (a network's ports by id) compares as the object of its entries.
  const before = plain(beforeValue);
  const after = plain(afterValue);
  if (Object.is(before, after)) return [];
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) =>
      diffStates(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        Array.isArray(before) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
      ),
    );
  }
  return [{ path: path || '(root)', before, after }];
}

/** A Map as the object of its entries; anything else as it is. */
export function plain(value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value as Map<string, unknown>) : value;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
