import { describe, expect, it } from '@jest/globals';

import { pyRepr } from './python-repr.js';
import { type Schema, describeBodyError, firstError } from './schema.js';

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
});

describe(pyRepr.name, () => {
  it("prints JSON values as Python's repr", () => {
    expect(pyRepr({ a: [1, true, null], "it's": 'x' })).toBe(`{'a': [1, True, None], "it's": 'x'}`);
    expect(pyRepr('line\nbreak')).toBe("'line\\nbreak'");
    expect(pyRepr('x'.repeat(400))).toHaveLength(303);
  });
});
