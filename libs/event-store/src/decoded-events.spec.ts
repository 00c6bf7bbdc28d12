import { describe, expect, it } from '@jest/globals';

import { DomainStarted, build, encodeEvent, isEvent } from '#libs/contracts';

import { DecodedEvents } from './decoded-events.js';
import { StoredEventInvalid } from './errors.js';
import { decodeStored } from './event-store.js';

const INSTANCE = '5c0b7a2e-8f4d-4b1e-9a3c-2d6e8f1a4b7c';
const STORED = encodeEvent(
  build(DomainStarted, {
    instanceId: INSTANCE,
    host: 'hv-01',
    domainName: `nimbus-${INSTANCE}`,
    reason: 'boot',
  }),
  {
    correlationId: 'req-3fa85f64-5717-4562-b3fc-2c963f66afa6',
    causationId: null,
    actor: { userId: 'compute', projectId: null, kind: 'service' },
    occurredAt: '2026-12-07T09:27:09.447Z',
  },
);

/** The event as the client hands it back: JSON-parsed afresh on every read, as a read does. */
function recorded(revision = 0n, overrides: { id?: string; data?: object } = {}) {
  const bytes = JSON.stringify({ data: overrides.data ?? STORED.data, metadata: STORED.metadata });
  return () => {
    const { data, metadata } = JSON.parse(bytes) as { data: unknown; metadata: unknown };
    return {
      id: overrides.id ?? STORED.id,
      streamId: `instance-${INSTANCE}`,
      revision,
      type: STORED.type,
      data,
      metadata,
    };
  };
}

describe(DecodedEvents.name, () => {
  it('checks an event once: every later read of it gets the same decoded event, frozen to the last value', () => {
    const known = new DecodedEvents();
    const read = recorded();
    const first = decodeStored(read(), known);
    const second = decodeStored(read(), known);
    expect(isEvent(first, DomainStarted)).toBe(true);
    expect(second.data).toBe(first.data);
    expect(second.metadata).toBe(first.metadata);
    expect(Object.isFrozen(first.data)).toBe(true);
    expect(Object.isFrozen(first.metadata.actor)).toBe(true);
    expect(() => {
      (first.data as { host: string }).host = 'hv-02';
    }).toThrow(TypeError);
  });

  it('decodes afresh an event met at the same place under another id, and never keeps one that failed', () => {
    const known = new DecodedEvents();
    const first = decodeStored(recorded()(), known);
    const other = decodeStored(recorded(0n, { id: '0b6f3d1e-2c4a-4e8b-9f7d-1a2b3c4d5e6f' })(), known);
    expect(other.data).not.toBe(first.data);

    const broken = recorded(1n, { data: { ...first.data, host: 42 } });
    expect(() => decodeStored(broken(), known)).toThrow(StoredEventInvalid);
    expect(() => decodeStored(broken(), known)).toThrow(StoredEventInvalid);
    expect(known.size).toBe(1);
  });

  it('keeps the events read most recently, up to its capacity', () => {
    const known = new DecodedEvents(2);
    const reads = [0n, 1n, 2n].map((revision) => recorded(revision));
    const [zero, one, two] = reads.map((read) => decodeStored(read(), known));
    expect(known.size).toBe(2);
    // 0 went first; 1 and 2 are kept.
    expect(decodeStored(reads[1]!(), known).data).toBe(one!.data);
    expect(decodeStored(reads[2]!(), known).data).toBe(two!.data);
    expect(decodeStored(reads[0]!(), known).data).not.toBe(zero!.data);
    // Reading 0 again pushed out 1, the least recently read, and kept 2.
    expect(decodeStored(reads[2]!(), known).data).toBe(two!.data);
    expect(decodeStored(reads[1]!(), known).data).not.toBe(one!.data);
  });
});
