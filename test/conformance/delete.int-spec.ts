/**
 * Conformance: soft delete and recreation, tombstones, and the stream metadata the store enforces
 * (`$maxCount`, `$tb`) or keeps (custom keys).
 */
import {
  BACKWARDS,
  END,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';

import { type ConformanceTarget, conformanceTarget } from '../support/conformance-target.js';
import { collect, numbered } from '../support/streams.js';

let target: ConformanceTarget;

beforeAll(async () => {
  target = await conformanceTarget();
});

afterAll(async () => {
  await target.close();
});

const revisionsOf = async (stream: string): Promise<(bigint | undefined)[]> =>
  (await collect(target.client.readStream(stream))).map((resolved) => resolved.event?.revision);

describe('deleteStream (soft delete)', () => {
  it('makes the stream read as not found', async () => {
    const stream = target.stream('soft');
    await target.client.appendToStream(stream, numbered(3));

    await target.client.deleteStream(stream);

    await expect(collect(target.client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('lets a later append recreate the stream, numbering on from where it was', async () => {
    const stream = target.stream('recreated');
    await target.client.appendToStream(stream, numbered(3));
    await target.client.deleteStream(stream);

    const result = await target.client.appendToStream(stream, numbered(2, 3));

    expect(result.nextExpectedRevision).toBe(4n);
    expect(await revisionsOf(stream)).toEqual([3n, 4n]);
  });

  it('refuses a delete at the wrong expected revision', async () => {
    const stream = target.stream('soft-wrong');
    await target.client.appendToStream(stream, numbered(4));

    const error = await target.client
      .deleteStream(stream, { expectedRevision: 2n })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect((error as WrongExpectedVersionError).streamName).toBe(stream);
    expect((error as WrongExpectedVersionError).expectedVersion).toBe(2n);
    expect(await revisionsOf(stream)).toHaveLength(4);
  });
});

describe('tombstoneStream (hard delete)', () => {
  it('makes reads and appends fail with StreamDeletedError naming the stream', async () => {
    const stream = target.stream('tomb');
    await target.client.appendToStream(stream, numbered(2));

    await target.client.tombstoneStream(stream);

    const readError = await collect(target.client.readStream(stream)).catch((caught: unknown) => caught);
    expect(readError).toBeInstanceOf(StreamDeletedError);
    expect((readError as StreamDeletedError).streamName).toBe(stream);
    await expect(target.client.appendToStream(stream, numbered(1))).rejects.toBeInstanceOf(
      StreamDeletedError,
    );
    await expect(
      target.client.appendToStream(stream, numbered(1), {
        credentials: { username: 'admin', password: 'changeit' },
      }),
    ).rejects.toBeInstanceOf(StreamDeletedError);
  });

  it('cannot be undone by another delete', async () => {
    const stream = target.stream('tomb-twice');
    await target.client.appendToStream(stream, numbered(1));
    await target.client.tombstoneStream(stream);

    await expect(target.client.tombstoneStream(stream)).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(target.client.deleteStream(stream)).rejects.toBeInstanceOf(StreamDeletedError);
  });

  it('refuses a tombstone at the wrong expected revision', async () => {
    const stream = target.stream('tomb-wrong');
    await target.client.appendToStream(stream, numbered(4));

    await expect(target.client.tombstoneStream(stream, { expectedRevision: 1n })).rejects.toBeInstanceOf(
      WrongExpectedVersionError,
    );
    expect(await revisionsOf(stream)).toHaveLength(4);
  });
});

describe('stream metadata', () => {
  it('keeps only the newest $maxCount events visible', async () => {
    const stream = target.stream('max-count');
    await target.client.appendToStream(stream, numbered(6));

    await target.client.setStreamMetadata(stream, { maxCount: 2 });

    expect(await revisionsOf(stream)).toEqual([4n, 5n]);
    const backwards = await collect(
      target.client.readStream(stream, { direction: BACKWARDS, fromRevision: END }),
    );
    expect(backwards.map((resolved) => resolved.event?.revision)).toEqual([5n, 4n]);
  });

  it('hides events before $tb', async () => {
    const stream = target.stream('truncate');
    await target.client.appendToStream(stream, numbered(5));

    await target.client.setStreamMetadata(stream, { truncateBefore: 3 });

    expect(await revisionsOf(stream)).toEqual([3n, 4n]);
  });

  it('round-trips custom metadata next to the known keys', async () => {
    const stream = target.stream('meta');
    await target.client.setStreamMetadata(stream, { maxCount: 7, owner: 'scheduler' });

    const { metadata } = await target.client.getStreamMetadata(stream);

    expect(metadata).toEqual({ maxCount: 7, owner: 'scheduler' });
  });
});
