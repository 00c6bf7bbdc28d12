/**
 * Python's `repr()` of a JSON value, for validation messages worded as Nova's (which come from Python's
 * jsonschema): `{'name': 1}`, `'x'`, `True`, `None`. Long values are cut, since they are echoed back.
 */
const MAX_REPR = 300;

function reprString(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}

function repr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nan';
  if (typeof value === 'string') return reprString(value);
  if (Array.isArray(value)) return `[${value.map(repr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([key, item]) => `${reprString(key)}: ${repr(item)}`,
    );
    return `{${entries.join(', ')}}`;
  }
  return `<${typeof value}>`;
}

export function pyRepr(value: unknown): string {
  const text = repr(value);
  return text.length > MAX_REPR ? `${text.slice(0, MAX_REPR)}...` : text;
}
