import { describe, expect, it } from '@jest/globals';
import { conform } from './conformance.js';
import {
  ContractViolation,
  DB_MAX_INT,
  IsAllocationRatio,
  IsDisplayName,
  IsHostName,
  IsInstanceId,
  IsMib,
  IsSha256Hex,
  IsStringMap,
  IsTimestamp,
  SERVER_METADATA_RULES,
} from './index.js';

class Probe {
  @IsHostName()
  readonly host!: string;

  @IsInstanceId()
  readonly instanceId!: string;

  @IsMib()
  readonly ramMb!: number;

  @IsTimestamp()
  readonly at!: string;

  @IsStringMap(SERVER_METADATA_RULES)
  readonly metadata!: Record<string, string>;

  @IsDisplayName()
  readonly name!: string;

  @IsAllocationRatio()
  readonly ratio!: number;

  @IsSha256Hex()
  readonly tokenHash!: string;
}

const valid = {
  host: 'hv-01',
  instanceId: '5c0b7a2e-8f4d-4b1e-9a3c-2d6e8f1a4b7c',
  ramMb: 2048,
  at: '2025-03-14T09:26:53.589Z',
  metadata: { role: 'web' },
  name: 'web 1',
  ratio: 1.5,
  tokenHash: 'dd02c120c70ef5d7353f095746606261f170d66f0112759042305e9d49206c13',
};

/** The properties that fail when `property` is set to `value` in an otherwise valid probe. */
function failing(property: keyof typeof valid, value: unknown): string[] {
  try {
    conform(Probe, { ...valid, [property]: value }, { contract: 'Probe', version: 1, context: 'spec' });
    return [];
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    return error.issues.map((issue) => issue.path);
  }
}

describe('composite validation decorators', () => {
  it('accept a valid probe', () => {
    expect(failing('host', valid.host)).toEqual([]);
  });

  it.each(['a', 'hv-01', '0', 'x'.repeat(63)])('IsHostName accepts %j', (host) => {
    expect(failing('host', host)).toEqual([]);
  });

  it.each(['', 'HV-01', 'hv_01', '-hv', 'hv-', 'hv-01.example.com', 'x'.repeat(64), 'hv 01', 42])(
    'IsHostName rejects %j',
    (host) => {
      expect(failing('host', host)).toEqual(['host']);
    },
  );

  it.each(['5C0B7A2E-8F4D-4B1E-9A3C-2D6E8F1A4B7C', '5c0b7a2e8f4d4b1e9a3c2d6e8f1a4b7c', '', 'instance-1'])(
    'IsInstanceId rejects %j (ids are lowercase UUIDs)',
    (id) => {
      expect(failing('instanceId', id)).toEqual(['instanceId']);
    },
  );

  it.each([0, -1, 1.5, DB_MAX_INT + 1, '2048', null])('IsMib rejects %j', (amount) => {
    expect(failing('ramMb', amount)).toEqual(['ramMb']);
  });

  it('IsMib accepts 1 and the 32-bit column limit', () => {
    expect([...failing('ramMb', 1), ...failing('ramMb', DB_MAX_INT)]).toEqual([]);
  });

  it.each([
    '2025-02-30T00:00:00Z',
    '2025-03-14T09:00:00+01:00',
    '2025-03-14',
    '2025-03-14 09:00:00Z',
    'yesterday',
  ])('IsTimestamp rejects %j (UTC instants ending in Z, real dates only)', (at) => {
    expect(failing('at', at)).toEqual(['at']);
  });

  it.each(['2025-03-14T09:26:53Z', '2024-02-29T23:59:59.999Z'])('IsTimestamp accepts %j', (at) => {
    expect(failing('at', at)).toEqual([]);
  });

  it.each([
    ['an empty key', { '': 'x' }],
    ['a key with "/"', { 'a/b': 'x' }],
    ['a value over 255 characters', { k: 'v'.repeat(256) }],
    ['a number value', { k: 1 }],
    ['more than 128 entries', Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']))],
    ['an array', ['a']],
  ])("IsStringMap (Nova's server metadata) rejects %s", (_case, metadata) => {
    expect(failing('metadata', metadata)).toEqual(['metadata']);
  });

  it('IsStringMap accepts 128 entries with spaces, colons and dots in keys and empty values', () => {
    const metadata = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`app:tier.${i} x`, '']));
    expect(failing('metadata', metadata)).toEqual([]);
  });

  it.each([' web', 'web ', '', 'web\u0000', 'x'.repeat(256)])('IsDisplayName rejects %j', (name) => {
    expect(failing('name', name)).toEqual(['name']);
  });

  it.each([0, -1, '1.0'])('IsAllocationRatio rejects %j', (ratio) => {
    expect(failing('ratio', ratio)).toEqual(['ratio']);
  });

  it.each(['DD02C120C70EF5D7353F095746606261F170D66F0112759042305E9D49206C13', 'abc', 'the-raw-token'])(
    'IsSha256Hex rejects %j',
    (hash) => {
      expect(failing('tokenHash', hash)).toEqual(['tokenHash']);
    },
  );
});
