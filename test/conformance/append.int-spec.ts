/**
 * Conformance: appends with every kind of expected revision, on both wire paths the client uses
 * (BatchAppend by default, the unary Append when call credentials are given), idempotent resends
 * and the append size limit. Runs against EVENTSTORE_URL or a freshly spawned embedded server.
 */
import {
  ANY,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedVersionError,
  jsonEvent,
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

// Call credentials make the client take the unary Append path; an insecure channel drops them.
const paths = [
  ['BatchAppend', {}],
  ['Append', { credentials: { username: 'admin', password: 'changeit' } }],
] as const;

describe.each(paths)('appendToStream over %s', (_path, callOptions) => {
  it('creates a stream with no_stream and reports the revision and position of the last event', async () => {
    const stream = target.stream('append-new');
    const result = await target.client.appendToStream(stream, numbered(3), {
      ...callOptions,
      expectedRevision: NO_STREAM,
    });

    expect(result.success).toBe(true);
    expect(result.nextExpectedRevision).toBe(2n);
    expect(result.position?.commit).toBeGreaterThan(0n);
    const events = await collect(target.client.readStream(stream));
    expect(events.map((resolved) => resolved.event?.revision)).toEqual([0n, 1n, 2n]);
  });

  it('rejects no_stream on an existing stream with the stream, expected and actual revisions', async () => {
    const stream = target.stream('append-exists');
    await target.client.appendToStream(stream, numbered(2));

    const error = await target.client
      .appendToStream(stream, numbered(1), { ...callOptions, expectedRevision: NO_STREAM })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    const wrong = error as WrongExpectedVersionError;
    expect(wrong.streamName).toBe(stream);
    expect(wrong.expectedVersion).toBe(NO_STREAM);
    expect(wrong.actualVersion).toBe(1n);
    expect(await collect(target.client.readStream(stream))).toHaveLength(2);
  });

  it('appends at the exact expected revision and rejects a stale one', async () => {
    const stream = target.stream('append-exact');
    await target.client.appendToStream(stream, numbered(2));

    const ok = await target.client.appendToStream(stream, numbered(1, 2), {
      ...callOptions,
      expectedRevision: 1n,
    });
    expect(ok.nextExpectedRevision).toBe(2n);

    const stale = await target.client
      .appendToStream(stream, numbered(1, 3), { ...callOptions, expectedRevision: 1n })
      .catch((caught: unknown) => caught);
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect((stale as WrongExpectedVersionError).expectedVersion).toBe(1n);
    expect((stale as WrongExpectedVersionError).actualVersion).toBe(2n);
  });

  it('requires stream_exists to find a stream', async () => {
    const stream = target.stream('append-must-exist');

    const error = await target.client
      .appendToStream(stream, numbered(1), { ...callOptions, expectedRevision: STREAM_EXISTS })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect((error as WrongExpectedVersionError).actualVersion).toBe(NO_STREAM);

    await target.client.appendToStream(stream, numbered(1));
    const ok = await target.client.appendToStream(stream, numbered(1, 1), {
      ...callOptions,
      expectedRevision: STREAM_EXISTS,
    });
    expect(ok.nextExpectedRevision).toBe(1n);
  });

  it('treats a resend of the same event ids at the same expected revision as already written', async () => {
    const stream = target.stream('append-idempotent');
    const events = numbered(3);
    const first = await target.client.appendToStream(stream, events, {
      ...callOptions,
      expectedRevision: NO_STREAM,
    });
    const again = await target.client.appendToStream(stream, events, {
      ...callOptions,
      expectedRevision: NO_STREAM,
    });
    const anyAgain = await target.client.appendToStream(stream, events, {
      ...callOptions,
      expectedRevision: ANY,
    });

    expect(again.success).toBe(true);
    expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
    expect(anyAgain.nextExpectedRevision).toBe(first.nextExpectedRevision);
    const stored = await collect(target.client.readStream(stream));
    expect(stored.map((resolved) => resolved.event?.id)).toEqual(events.map((event) => event.id));
  });

  it('refuses an append larger than the maximum append size and writes none of it', async () => {
    const stream = target.stream('append-too-big');
    const blob = 'x'.repeat(600 * 1024);
    const events = [jsonEvent({ type: 'Big', data: { blob } }), jsonEvent({ type: 'Big', data: { blob } })];

    const error = await target.client
      .appendToStream(stream, events, callOptions)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
    expect(typeof (error as MaxAppendSizeExceededError).maxAppendSize).toBe('number');
    await expect(collect(target.client.readStream(stream))).rejects.toThrow(/not found/);
  });
});
