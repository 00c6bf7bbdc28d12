import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

import { EVENTS_STREAM, EVENTS_STREAM_SUBJECTS } from '#libs/contracts';

import { eventsStreamConfig, streamDrift } from './events-stream.js';

describe(eventsStreamConfig.name, () => {
  it('is a file-stored limits stream over every event subject, with a duplicate window', () => {
    expect(eventsStreamConfig()).toMatchObject({
      name: EVENTS_STREAM,
      subjects: [EVENTS_STREAM_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(120_000),
      max_age: nanos(7 * 24 * 3_600_000),
      max_bytes: 1024 ** 3,
      max_msg_size: 1024 ** 2,
    });
  });

  it('takes other limits when given', () => {
    expect(eventsStreamConfig({ duplicateWindowMs: 600_000, maxBytes: 10 })).toMatchObject({
      duplicate_window: nanos(600_000),
      max_bytes: 10,
    });
  });
});

describe(streamDrift.name, () => {
  it('lists the managed settings that differ, and nothing else', () => {
    const desired = eventsStreamConfig();
    expect(streamDrift({ ...desired }, desired)).toEqual([]);
    expect(streamDrift({ ...desired, max_bytes: 5, duplicate_window: 1, description: 'x' }, desired)).toEqual(
      ['duplicate_window', 'max_bytes'],
    );
  });
});
