import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { IsString, ValidateNested } from 'class-validator';
import {
  ContractViolation,
  ENVELOPE_VERSION,
  EventMetadata,
  IsBoundedInt,
  IsText,
  NestedObject,
  Optional,
  eventDefinitions,
  fingerprintOf,
  type ContractClass,
} from './index.js';

/**
 * Nova's notification object hash test, for events: every event's schema is fingerprinted and compared
 * with fingerprints.json, so a schema cannot change under a version that may already be stored somewhere.
 */
const FINGERPRINTS_FILE = new URL('../fingerprints.json', import.meta.url);
const RECORD_COMMAND = 'NIMBUS_RECORD_FINGERPRINTS=1 npm test -- libs/contracts/src/fingerprint.spec.ts';
const recording = process.env['NIMBUS_RECORD_FINGERPRINTS'] === '1';

interface Current {
  readonly key: string;
  readonly type: string;
  readonly version: number;
  readonly fingerprint: string;
}

const current: readonly Current[] = [
  ...eventDefinitions().map(({ type, version, eventClass }) => ({
    key: `${type}.v${version}`,
    type,
    version,
    fingerprint: fingerprintOf(eventClass),
  })),
  {
    key: `EventMetadata.v${ENVELOPE_VERSION}`,
    type: 'EventMetadata',
    version: ENVELOPE_VERSION,
    fingerprint: fingerprintOf(EventMetadata),
  },
];

function readRecorded(): Record<string, string> {
  return existsSync(FINGERPRINTS_FILE)
    ? (JSON.parse(readFileSync(FINGERPRINTS_FILE, 'utf8')) as Record<string, string>)
    : {};
}

const recorded = readRecorded();

function changedSchemaMessage({ key, type, version, fingerprint }: Current): string {
  if (type === 'EventMetadata') {
    return [
      `The envelope EventMetadata changed shape (${key}: recorded ${recorded[key]}, now ${fingerprint}).`,
      'Every stored event carries an envelope of the recorded shape, and envelopes have no upcasters.',
      'Make decoding accept the old shape as well, bump ENVELOPE_VERSION in envelope.ts, then record it:',
      `  ${RECORD_COMMAND}`,
    ].join('\n');
  }
  return [
    `${type} changed its schema but kept version ${version} (recorded ${recorded[key]}, now ${fingerprint}).`,
    `Events of ${type} v${version} may already be stored, and stored events never change, so a new shape is a new version:`,
    `  1. bump it: @DomainEvent({ type: '${type}', version: ${version + 1}, ... })`,
    `  2. beside the class: registerUpcaster('${type}', ${version}, (v${version}) => ({ ...the v${version + 1} shape }))`,
    `  3. add samples/${type}.v${version + 1}.json and keep samples/${type}.v${version}.json (it now proves the upcaster)`,
    `  4. record the new version's fingerprint: ${RECORD_COMMAND}`,
    `Recording adds entries for versions not yet recorded; it never rewrites ${key}. Do not edit that entry by hand`,
    'unless you are sure no store anywhere (CI, a colleague, production) holds an event of this version.',
  ].join('\n');
}

describe('schema fingerprints (fingerprints.json)', () => {
  it('record every current event version and the envelope', () => {
    const missing = current.filter(({ key }) => recorded[key] === undefined);
    if (missing.length > 0 && recording) {
      const next = {
        ...recorded,
        ...Object.fromEntries(missing.map(({ key, fingerprint }) => [key, fingerprint])),
      };
      const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
      writeFileSync(FINGERPRINTS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
      return;
    }
    if (missing.length > 0) {
      throw new Error(
        [
          `No recorded fingerprint for: ${missing.map(({ key }) => key).join(', ')}.`,
          'For a new event type or a new version (with its upcaster and sample in place), record it:',
          `  ${RECORD_COMMAND}`,
        ].join('\n'),
      );
    }
  });

  it.each(current.map((entry) => [entry.key, entry] as const))(
    '%s matches its recorded fingerprint',
    (_key, entry) => {
      const expected = recorded[entry.key];
      if (expected !== undefined && expected !== entry.fingerprint)
        throw new Error(changedSchemaMessage(entry));
    },
  );

  it('keep every recorded type registered, at a version no older than recorded', () => {
    const problems = Object.keys(recorded).flatMap((key) => {
      const [type, version] = key.split('.v') as [string, string];
      const now = current.find((entry) => entry.type === type);
      if (now === undefined)
        return [`${type} is recorded but no longer registered: its stored events could not be decoded`];
      return Number(version) > now.version ? [`${key} is recorded but the code is at v${now.version}`] : [];
    });
    expect(problems).toEqual([]);
  });
});

// Test-only variants of one schema: each differs from Probe in one way.
class Size {
  @IsBoundedInt(1)
  readonly gb!: number;
}
class SizeAllowingZero {
  @IsBoundedInt(0)
  readonly gb!: number;
}
class Probe {
  @IsText(1, 64)
  readonly name!: string;

  @NestedObject(() => Size)
  readonly size!: Size;
}
class ProbeSameRules {
  @NestedObject(() => Size)
  readonly size!: Size;

  @IsText(1, 64)
  readonly name!: string;
}
class ProbeLongerName {
  @IsText(1, 65)
  readonly name!: string;

  @NestedObject(() => Size)
  readonly size!: Size;
}
class ProbeOptionalName {
  @Optional()
  @IsText(1, 64)
  readonly name?: string;

  @NestedObject(() => Size)
  readonly size!: Size;
}
class ProbeRenamed {
  @IsText(1, 64)
  readonly title!: string;

  @NestedObject(() => Size)
  readonly size!: Size;
}
class ProbeNestedChanged {
  @IsText(1, 64)
  readonly name!: string;

  @NestedObject(() => SizeAllowingZero)
  readonly size!: SizeAllowingZero;
}
class ProbeNestedWithoutClass {
  @IsString()
  readonly name!: string;

  @ValidateNested()
  readonly size!: Size;
}

describe(fingerprintOf.name, () => {
  it.each<[string, ContractClass]>([
    ['a constraint changes (a length limit)', ProbeLongerName],
    ['a required property becomes optional', ProbeOptionalName],
    ['a property is renamed', ProbeRenamed],
    ['a rule inside a nested class changes', ProbeNestedChanged],
  ])('changes when %s', (_change, variant) => {
    expect(fingerprintOf(variant)).not.toBe(fingerprintOf(Probe));
  });

  it('ignores class names and the order properties are declared in', () => {
    expect(fingerprintOf(ProbeSameRules)).toBe(fingerprintOf(Probe));
  });

  it('is 32 lowercase hex digits and stable across calls', () => {
    expect(fingerprintOf(Probe)).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprintOf(Probe)).toBe(fingerprintOf(Probe));
  });

  it('refuses a nested property that does not name its class, whose rules it could not read', () => {
    expect(() => fingerprintOf(ProbeNestedWithoutClass)).toThrow(ContractViolation);
    expect(() => fingerprintOf(ProbeNestedWithoutClass)).toThrow(/use NestedObject or NestedArray/);
  });
});
