/**
 * The storage rules on their own, on a real SQLite file: expected revisions, idempotent resends,
 * soft delete and recreation, tombstones, and rollback of everything a failed transaction did.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EventLog } from './event-log.js';
import { type ProposedEvent, TOMBSTONE_REVISION } from './records.js';

let dir: string;
let log: EventLog;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nimbus-log-'));
  log = new EventLog({ dataDir: dir });
});

afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

const event = (type = 'Happened'): ProposedEvent => ({
  id: randomUUID(),
  type,
  contentType: 'application/json',
  data: Buffer.from('{}'),
  metadata: new Uint8Array(),
});

const append = (...args: Parameters<EventLog['append']>) => log.commit(() => log.append(...args));

describe(EventLog.name, () => {
  it('appends with any to an existing stream and keeps numbering', () => {
    append('s', { kind: 'no_stream' }, [event()]);
    expect(append('s', { kind: 'any' }, [event(), event()])).toMatchObject({ kind: 'success', revision: 2n });
  });

  it('answers a resend of stored events with the original result and stores nothing new', () => {
    const events = [event(), event()];
    const first = append('s', { kind: 'no_stream' }, events);
    const again = append('s', { kind: 'no_stream' }, events);
    expect(again).toEqual(first);
    expect(log.readStream('s', 'start', 'forwards', 10)).toHaveLength(2);
  });

  it('does not take a partial match for a resend', () => {
    const [a, b] = [event(), event()];
    append('s', { kind: 'no_stream' }, [a, b]);
    expect(append('s', { kind: 'no_stream' }, [a, event()])).toMatchObject({
      kind: 'wrong_expected_version',
    });
  });

  it('recreates a soft-deleted stream after its last revision and hides what came before', () => {
    append('s', { kind: 'no_stream' }, [event(), event()]);
    log.commit(() => log.delete('s', { kind: 'any' }));
    expect(log.readStream('s', 'start', 'forwards', 10)).toBeNull();

    expect(append('s', { kind: 'no_stream' }, [event()])).toMatchObject({ kind: 'success', revision: 2n });
    expect(log.readStream('s', 'start', 'forwards', 10)?.map((record) => record.revision)).toEqual([2n]);
  });

  it('records a tombstone at Int64.MaxValue in $all and refuses the stream from then on', () => {
    append('s', { kind: 'no_stream' }, [event()]);
    log.commit(() => log.tombstone('s', { kind: 'any' }));

    const all = log.readAll(0n, 'forwards', 10);
    expect(all.at(-1)).toMatchObject({ stream: 's', revision: TOMBSTONE_REVISION, type: '$streamDeleted' });
    expect(append('s', { kind: 'any' }, [event()])).toEqual({ kind: 'stream_deleted' });
    expect(log.isTombstoned('s')).toBe(true);
  });

  it('keeps nothing of a transaction that fails, neither rows nor cached revisions', () => {
    append('s', { kind: 'no_stream' }, [event()]);
    expect(() =>
      log.commit(() => {
        log.append('s', { kind: 'any' }, [event()]);
        throw new Error('disk on fire');
      }),
    ).toThrow('disk on fire');

    expect(log.readStream('s', 'start', 'forwards', 10)).toHaveLength(1);
    expect(append('s', { kind: 'exact', revision: 0n }, [event()])).toMatchObject({
      kind: 'success',
      revision: 1n,
    });
  });

  it('survives a reopen with the same streams, revisions and positions', () => {
    append('s', { kind: 'no_stream' }, [event(), event()]);
    log.close();
    log = new EventLog({ dataDir: dir });

    expect(log.headPosition).toBe(2n);
    expect(append('s', { kind: 'exact', revision: 1n }, [event()])).toMatchObject({
      revision: 2n,
      position: 3n,
    });
  });
});
