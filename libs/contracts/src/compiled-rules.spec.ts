import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { passesRules } from './compiled-rules.js';
import { STRICT_VALIDATION } from './conformance.js';
import './index.js';
import { contractSamples, mutations } from './testing/contract-samples.js';

function referenceVerdict(instance: object): boolean {
  return validateSync(instance, STRICT_VALIDATION).length === 0;
}

const samples = contractSamples();

describe('passesRules', () => {
  it('passes every current sample, as class-validator does', () => {
    const failing = samples
      .filter(({ contract, plain }) => {
        const instance = plainToInstance(contract, plain);
        return !passesRules(instance) || !referenceVerdict(instance);
      })
      .map(({ name }) => name);
    expect(samples.length).toBeGreaterThan(60);
    expect(failing).toEqual([]);
  });

  it.each(samples.map((sample) => [sample.name, sample] as const))(
    'agrees with class-validator on every one-change variant of %s',
    (_name, { contract, plain }) => {
      const disagreements: string[] = [];
      let refused = 0;
      for (const { where, value } of mutations(plain)) {
        const instance = plainToInstance(contract, value);
        const reference = referenceVerdict(instance);
        if (!reference) refused += 1;
        if (passesRules(instance) !== reference)
          disagreements.push(`${where}: class-validator says ${reference ? 'valid' : 'invalid'}`);
      }
      expect(disagreements).toEqual([]);
      // The variants reach the rules: an added property alone is always refused.
      expect(refused).toBeGreaterThan(0);
    },
  );

  it('refuses what class-validator refuses outright: a class without rules, an object without a class', () => {
    class NoRules {
      readonly name = 'x';
    }
    expect(referenceVerdict(new NoRules())).toBe(false);
    expect(passesRules(new NoRules())).toBe(false);
    expect(passesRules(Object.create(null) as object)).toBe(false);
  });
});
