/**
 * What changed in a folded state between two points of a stream, field by field. Pure: two plain
 * values in, the list of differing paths out (arrays compared element-wise, objects key by key).
 */
export interface Change {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export function diffStates(before: unknown, after: unknown, path = ''): Change[] {
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

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
