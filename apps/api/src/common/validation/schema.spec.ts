import { describe, expect, it, jest } from '@jest/globals';
import { Ajv } from 'ajv';

import { pyRepr } from './python-repr.js';
import { type Schema, describeBodyError, describeQueryError, firstError } from './schema.js';

const schema: Schema = {
  type: 'object',
  properties: {
    server: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 5, format: 'name' },
        count: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1 },
        networks: { oneOf: [{ type: 'array' }, { type: 'string', enum: ['none', 'auto'] }] },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['server'],
  additionalProperties: false,
};

const message = (value: unknown): string | null => {
  const error = firstError(schema, value);
  return error ? describeBodyError(error) : null;
};

/** The message of the first error of `value` against `schema`, without the field prefix. */
const bare = (checked: Schema, value: unknown): string | null => firstError(checked, value)?.message ?? null;

describe('request schemas', () => {
  it("word errors as Nova's validation does", () => {
    expect(message({})).toBe("'server' is a required property");
    expect(message({ server: { name: 'a', foo: 1 } })).toBe(
      "Invalid input for field/attribute server. Value: {'name': 'a', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
    expect(message({ server: {} })).toBe(
      "Invalid input for field/attribute server. Value: {}. 'name' is a required property",
    );
    expect(message({ server: { name: 1 } })).toBe(
      "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'",
    );
    expect(message({ server: { name: 'toolong' } })).toBe(
      "Invalid input for field/attribute name. Value: 'toolong'. 'toolong' is too long",
    );
    expect(message({ server: { name: ' x' } })).toBe(
      "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
    );
    expect(message({ server: { name: 'a', count: '0' } })).toBe(
      "Invalid input for field/attribute count. Value: '0'. '0' is less than the minimum of 1",
    );
    expect(message({ server: { name: 'a', networks: 'some' } })).toBe(
      "Invalid input for field/attribute networks. Value: 'some'. 'some' is not valid under any of the given schemas",
    );
    expect(message({ server: { name: 'a', count: true } })).toBe(
      "Invalid input for field/attribute count. Value: True. True is not of type 'integer', 'string'",
    );
  });

  it('accept what matches', () => {
    expect(message({ server: { name: 'web', count: '3', networks: 'none' } })).toBeNull();
    expect(message({ server: { name: 'web', count: 2, networks: [] } })).toBeNull();
  });

  it('word type errors with every allowed type', () => {
    expect(bare({ type: 'string' }, null)).toBe("None is not of type 'string'");
    expect(bare({ type: ['string', 'null'] }, 1.5)).toBe("1.5 is not of type 'string', 'null'");
    expect(bare({ type: 'integer' }, 1.5)).toBe("1.5 is not of type 'integer'");
    expect(bare({ type: 'number' }, 2)).toBeNull();
    expect(bare({ type: 'object' }, [])).toBe("[] is not of type 'object'");
  });

  it('name the first missing required property', () => {
    expect(bare({ type: 'object', required: ['a', 'b'] }, { b: 1 })).toBe("'a' is a required property");
    expect(bare({ type: 'object', required: ['a', 'b'] }, { a: 1 })).toBe("'b' is a required property");
  });

  it('name every unexpected property, not only the first', () => {
    const closed: Schema = {
      type: 'object',
      properties: { a: {} },
      patternProperties: { '^x-': {} },
      additionalProperties: false,
    };
    expect(bare(closed, { a: 1, 'x-ok': 1, b: 1, c: 2 })).toBe(
      "Additional properties are not allowed ('b', 'c' were unexpected)",
    );
    expect(bare(closed, { a: 1, b: 1 })).toBe("Additional properties are not allowed ('b' was unexpected)");
  });

  it('check additional properties against a schema', () => {
    const strings: Schema = { type: 'object', additionalProperties: { type: 'string' } };
    expect(firstError(strings, { a: 'x', b: 2 })).toEqual({
      path: ['b'],
      value: 2,
      message: "2 is not of type 'string'",
    });
  });

  it('list the allowed values of an enum', () => {
    expect(bare({ enum: ['HARD', 'SOFT', null] }, 'hard')).toBe(
      "'hard' is not one of ['HARD', 'SOFT', None]",
    );
    expect(bare({ type: 'boolean', enum: [false] }, true)).toBe('True is not one of [False]');
    // Compared by value, as JSON Schema (and Python's ==) compares; Nimbus's schemas list only scalars.
    expect(bare({ enum: [[1, 2]] }, [1, 2])).toBeNull();
  });

  it('quote the pattern a string does not match, matched with Unicode classes', () => {
    expect(bare({ type: 'string', pattern: '^[0-9]*$' }, 'x1')).toBe("'x1' does not match '^[0-9]*$'");
    expect(bare({ type: 'string', pattern: '^[^\\p{Cc}]*$' }, 'a\u0007')).toBe(
      "'a\\x07' does not match '^[^\\\\p{Cc}]*$'",
    );
    expect(bare({ type: 'string', pattern: '^[^\\p{Cc}]*$' }, 'é ok')).toBeNull();
  });

  it("check Nova's formats", () => {
    const uuid: Schema = { type: 'string', format: 'uuid' };
    expect(bare(uuid, '0f3c8f0e-3d1c-4b5a-9a55-6c6f8a2e9b11')).toBeNull();
    expect(bare(uuid, '0f3c8f0e3d1c4b5a9a556c6f8a2e9b11')).toBeNull();
    expect(bare(uuid, 'nope')).toBe("'nope' is not a 'uuid'");
    expect(bare({ type: 'string', format: 'ipv4' }, '256.0.0.1')).toBe("'256.0.0.1' is not a 'ipv4'");
    expect(bare({ type: 'string', format: 'ipv6' }, 'fe80::1')).toBeNull();
    expect(bare({ type: 'string', format: 'base64' }, 'QUJ')).toBe("'QUJ' is not a 'base64'");
    expect(bare({ type: 'string', format: 'date-time' }, '2024-01-01T00:00:00Z')).toBeNull();
    expect(bare({ type: 'string', format: 'regex' }, '(')).toBe("'(' is not a 'regex'");
    expect(bare({ type: 'string', format: 'name' }, 'tab\t')).toBe(
      "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
    );
    // Formats only constrain strings.
    expect(bare({ format: 'uuid' }, 12)).toBeNull();
  });

  it('count string length in code points, as Python does', () => {
    const short: Schema = { type: 'string', minLength: 2, maxLength: 3 };
    expect(bare(short, 'a')).toBe("'a' is too short");
    expect(bare(short, 'abcd')).toBe("'abcd' is too long");
    expect(bare(short, '😀😀😀')).toBeNull();
    expect(bare(short, '\ud800')).toBe("'\ud800' is too short");
  });

  it('bound numbers and the strings that read as numbers', () => {
    const count: Schema = { type: ['integer', 'string'], minimum: -1, maximum: 10 };
    expect(bare(count, -2)).toBe('-2 is less than the minimum of -1');
    expect(bare(count, 11)).toBe('11 is greater than the maximum of 10');
    expect(bare(count, '11')).toBe("'11' is greater than the maximum of 10");
    expect(bare(count, ' -5 ')).toBe("' -5 ' is less than the minimum of -1");
    expect(bare(count, '10.5')).toBe("'10.5' is greater than the maximum of 10");
    expect(bare(count, 'many')).toBeNull();
    expect(bare({ type: 'number', maximum: 3.40282e38 }, 1e39)).toBe(
      '1e+39 is greater than the maximum of 3.40282e+38',
    );
  });

  it('bound array length', () => {
    const pair: Schema = { type: 'array', minItems: 1, maxItems: 2 };
    expect(bare(pair, [])).toBe('[] is too short');
    expect(bare(pair, [1, 2, 3])).toBe('[1, 2, 3] is too long');
  });

  it('refuse repeated items by their JSON text, whatever their type', () => {
    const unique: Schema = { type: 'array', uniqueItems: true, items: { type: 'string' } };
    expect(bare(unique, ['a', 'b', 'a'])).toBe("['a', 'b', 'a'] has non-unique elements");
    expect(bare(unique, [1, 1])).toBe('[1, 1] has non-unique elements');
    expect(
      bare({ type: 'array', uniqueItems: true }, [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ]),
    ).toBeNull();
  });

  it('tell no match from more than one match of oneOf', () => {
    const either: Schema = { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 2 }] };
    expect(bare(either, 1)).toBe('1 is not valid under any of the given schemas');
    expect(bare(either, 'ab')).toBe("'ab' is valid under each of the given schemas");
    expect(bare(either, 'abc')).toBeNull();
  });

  it('report anyOf as a whole, not the errors of its branches', () => {
    const any: Schema = { anyOf: [{ type: 'string', minLength: 3 }, { type: 'integer' }] };
    expect(bare(any, 'ab')).toBe("'ab' is not valid under any of the given schemas");
    expect(bare(any, 4)).toBeNull();
  });

  it('bound the number of properties', () => {
    const sized: Schema = { type: 'object', minProperties: 1, maxProperties: 2 };
    expect(bare(sized, {})).toBe('{} does not have enough properties');
    expect(bare(sized, { a: 1, b: 2, c: 3 })).toBe("{'a': 1, 'b': 2, 'c': 3} has too many properties");
  });

  it('check the values of keys matching a pattern, and refuse the keys matching none', () => {
    const metadata: Schema = {
      type: 'object',
      patternProperties: { '^[a-z]{1,3}$': { type: 'string', maxLength: 2 } },
      additionalProperties: false,
    };
    expect(describeBodyError(firstError(metadata, { ab: 'xyz' })!)).toBe(
      "Invalid input for field/attribute ab. Value: 'xyz'. 'xyz' is too long",
    );
    expect(bare(metadata, { ab: 'x', toolong: 'x' })).toBe(
      "Additional properties are not allowed ('toolong' was unexpected)",
    );
  });
});

describe('which error is reported when several apply', () => {
  it('checks type before anything else, then enum before the string keywords', () => {
    expect(bare({ type: 'string', enum: ['a'], minLength: 5 }, 1)).toBe("1 is not of type 'string'");
    expect(bare({ type: 'string', pattern: '^[0-9]+$', minimum: 1 }, -1)).toBe("-1 is not of type 'string'");
    expect(bare({ type: 'object', items: { type: 'string' } }, [1])).toBe("[1] is not of type 'object'");
    expect(bare({ type: 'string', enum: ['a'], minLength: 5 }, 'b')).toBe("'b' is not one of ['a']");
  });

  it('checks length, then pattern, then format, then the numeric bounds of a string', () => {
    const ordered: Schema = { type: 'string', maxLength: 3, pattern: '^[0-9]+$', format: 'ipv4', minimum: 5 };
    expect(bare(ordered, 'abcd')).toBe("'abcd' is too long");
    expect(bare(ordered, 'ab')).toBe("'ab' does not match '^[0-9]+$'");
    expect(bare(ordered, '1')).toBe("'1' is not a 'ipv4'");
    const counted: Schema = { type: 'string', pattern: '^[0-9]*$', minimum: 1 };
    expect(bare(counted, '0')).toBe("'0' is less than the minimum of 1");
  });

  it('checks array length, then uniqueness, then the items', () => {
    const tags: Schema = { type: 'array', maxItems: 2, uniqueItems: true, items: { type: 'string' } };
    expect(bare(tags, [1, 1, 1])).toBe('[1, 1, 1] is too long');
    expect(bare(tags, [1, 1])).toBe('[1, 1] has non-unique elements');
    expect(firstError(tags, ['a', 1])?.path).toEqual(['1']);
  });

  it('checks properties in schema order, then required, then additional properties', () => {
    const body: Schema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' } },
      required: ['a', 'b'],
      additionalProperties: false,
    };
    expect(firstError(body, { z: 1, b: 2, a: 1 })?.path).toEqual(['a']);
    expect(bare(body, { z: 1, b: 'x' })).toBe("'a' is a required property");
    expect(bare(body, { z: 1, a: 'x', b: 'y' })).toBe(
      "Additional properties are not allowed ('z' was unexpected)",
    );
  });

  it('checks the property count before the properties', () => {
    const sized: Schema = { type: 'object', maxProperties: 1, properties: { a: { type: 'string' } } };
    expect(bare(sized, { a: 1, b: 2 })).toBe("{'a': 1, 'b': 2} has too many properties");
  });

  it('checks oneOf and anyOf after every other keyword', () => {
    const mixed: Schema = {
      type: 'object',
      required: ['a'],
      oneOf: [{ required: ['b'] }],
      anyOf: [{ required: ['c'] }],
    };
    expect(bare(mixed, {})).toBe("'a' is a required property");
    expect(bare(mixed, { a: 1 })).toBe("{'a': 1} is not valid under any of the given schemas");
    expect(bare({ type: 'string', maxLength: 1, oneOf: [{ enum: ['x'] }] }, 'yy')).toBe("'yy' is too long");
  });

  it('reports the first failing item or property, depth first', () => {
    const nested: Schema = {
      type: 'object',
      properties: {
        networks: { type: 'array', items: { type: 'object', properties: { uuid: { format: 'uuid' } } } },
        name: { type: 'string' },
      },
    };
    const error = firstError(nested, { name: 1, networks: [{ uuid: 'ok' }, { uuid: 'bad' }] });
    expect(error).toEqual({ path: ['networks', '0', 'uuid'], value: 'ok', message: "'ok' is not a 'uuid'" });
    expect(describeBodyError(error!)).toBe(
      "Invalid input for field/attribute uuid. Value: 'ok'. 'ok' is not a 'uuid'",
    );
  });
});

describe(firstError.name, () => {
  it('gives property names from the root, unescaped', () => {
    const open: Schema = { type: 'object', additionalProperties: { type: 'string' } };
    expect(firstError(open, { 'a/b~c': 1 })?.path).toEqual(['a/b~c']);
    expect(firstError(open, { '': 1 })?.path).toEqual(['']);
  });

  it('compiles a schema once, also when it is rebuilt as a new object of the same content', () => {
    const compile = jest.spyOn(Ajv.prototype, 'compile');
    const build = (): Schema => ({ type: 'object', properties: { once: { type: 'string', maxLength: 7 } } });
    const first = build();
    expect(bare(first, { once: 'x' })).toBeNull();
    expect(bare(first, { once: 1 })).toBe("1 is not of type 'string'");
    expect(bare(build(), { once: 'much too long' })).toBe("'much too long' is too long");
    expect(compile).toHaveBeenCalledTimes(1);
    compile.mockRestore();
  });

  it('refuses a schema with a keyword it does not know', () => {
    const typo = { type: 'string', maxLenght: 3 } as Schema;
    expect(() => firstError(typo, 'x')).toThrow(/unknown keyword/);
  });
});

describe(describeQueryError.name, () => {
  it("words errors as Nova's query validation does", () => {
    const query: Schema = { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]*$' } } };
    expect(describeQueryError(firstError(query, { limit: '-1' })!)).toBe(
      "Invalid input for query parameters limit. Value: '-1'. '-1' does not match '^[0-9]*$'",
    );
    expect(describeQueryError(firstError({ type: 'object', required: ['x'] }, {})!)).toBe(
      "'x' is a required property",
    );
  });
});

describe(pyRepr.name, () => {
  it("prints JSON values as Python's repr", () => {
    expect(pyRepr({ a: [1, true, null], "it's": 'x' })).toBe(`{'a': [1, True, None], "it's": 'x'}`);
    expect(pyRepr('line\nbreak')).toBe("'line\\nbreak'");
    expect(pyRepr('x'.repeat(400))).toHaveLength(303);
  });
});
