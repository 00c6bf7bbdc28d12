import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';

import { BootRequested, ContractViolation, HostSelected, decodeEvent } from './index.js';
import { instantiate } from './instances.js';
import { contractSamples, mutations } from './testing/contract-samples.js';
import { sampleOf } from './testing/samples.js';

/** A value as a tree of classes and own properties, so two instances compare by shape and content. */
function anatomy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(anatomy);
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return {
    class: prototype?.constructor?.name ?? null,
    properties: Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, anatomy((value as Record<string, unknown>)[key])]),
    ),
  };
}

const samples = contractSamples();

describe('instantiate', () => {
  it.each(samples.map((sample) => [sample.name, sample] as const))(
    'makes what class-transformer makes of %s and of every one-change variant of it',
    (_name, { contract, plain }) => {
      const differences: string[] = [];
      for (const { where, value } of [{ where: 'as is', value: plain }, ...mutations(plain)]) {
        const expected = anatomy(plainToInstance(contract, value));
        if (JSON.stringify(anatomy(instantiate(contract, value as object))) !== JSON.stringify(expected))
          differences.push(where);
      }
      expect(differences).toEqual([]);
    },
  );

  it('makes nested values instances of their declared classes, element by element', () => {
    const raw = sampleOf('HostSelected');
    const selected = instantiate(HostSelected, raw.data as object);

    expect(selected).toBeInstanceOf(HostSelected);
    expect(selected.trace.constructor.name).toBe('SchedulingTrace');
    expect(selected.trace.weighed.map((entry) => entry.constructor.name)).toEqual([
      'WeighedHost',
      'WeighedHost',
    ]);
    expect(selected.trace.filters[0]?.constructor.name).toBe('FilterStep');
    // A copy: changing it leaves the plain value alone.
    expect(selected.trace).not.toBe((raw.data as { trace: unknown }).trace);
  });

  it('keeps a metadata entry named like an Object member, which class-transformer drops', () => {
    const raw = sampleOf('BootRequested', 3);
    const data = raw.data as { metadata: Record<string, string> };
    data.metadata = { valueOf: 'kept', toString: 'kept too' };

    expect((plainToInstance(BootRequested, data) as { metadata: object }).metadata).toEqual({});
    expect(decodeEvent(raw).data).toMatchObject({ metadata: { valueOf: 'kept', toString: 'kept too' } });
  });

  it('lets the whitelist see an unknown property named like a member, which class-transformer hides', () => {
    const raw = sampleOf('BootRequested', 3);
    (raw.data as Record<string, unknown>)['hasOwnProperty'] = 'x';

    expect(() => decodeEvent(raw)).toThrow(ContractViolation);
    expect(() => decodeEvent(raw)).toThrow(/hasOwnProperty/);
  });
});
