import { randomUUID } from 'node:crypto';

import { TOMBSTONE_REVISION, type RecordedEvent } from '../storage/records.js';
import { readEventResponse, streamsPb } from './protocol.js';
import { encodeReadEvent } from './read-event-encoder.js';

const record = (overrides: Partial<RecordedEvent> = {}): RecordedEvent => ({
  position: 42n,
  stream: 'instance-7c9e6679-7425-40de-944b-e07fc1f90ae7',
  revision: 3n,
  id: randomUUID(),
  type: 'DomainStarted',
  contentType: 'application/json',
  created: 17_637_724_000_000_000n,
  data: Buffer.from(JSON.stringify({ host: 'host-1', note: 'ünïcødé' })),
  metadata: Buffer.from(JSON.stringify({ correlationId: 'req-1' })),
  ...overrides,
});

const cases: [string, RecordedEvent][] = [
  ['an ordinary JSON event', record()],
  ['the first event of the log (zero revision)', record({ revision: 0n, position: 1n })],
  [
    'a tombstone with Int64.MaxValue as revision and empty bodies',
    record({
      revision: TOMBSTONE_REVISION,
      data: new Uint8Array(),
      metadata: new Uint8Array(),
      type: '$streamDeleted',
    }),
  ],
  [
    'a large binary body and a non-ASCII stream name',
    record({ stream: 'ström-ü', data: Buffer.alloc(70_000, 7), contentType: 'application/octet-stream' }),
  ],
  ['positions beyond 2^53', record({ position: 2n ** 60n + 5n, revision: 2n ** 55n })],
];

describe(encodeReadEvent.name, () => {
  it.each(cases)('writes the same bytes as the generated serializer for %s', (_label, event) => {
    for (const structured of [false, true]) {
      const expected = Buffer.from(readEventResponse(event, structured).serializeBinary());
      expect(encodeReadEvent(event, structured).equals(expected)).toBe(true);
    }
  });

  it('decodes with the client classes back to the same event', () => {
    const event = record();
    const decoded = streamsPb.ReadResp.deserializeBinary(encodeReadEvent(event, false));
    const recorded = decoded.getEvent()?.getEvent();

    expect(recorded?.getId()?.getString()).toBe(event.id);
    expect(recorded?.getStreamRevision()).toBe('3');
    expect(recorded?.getMetadataMap().get('type')).toBe('DomainStarted');
    expect(Buffer.from(recorded?.getData_asU8() ?? []).toString()).toBe(Buffer.from(event.data).toString());
    expect(decoded.getEvent()?.getCommitPosition()).toBe('42');
  });
});
