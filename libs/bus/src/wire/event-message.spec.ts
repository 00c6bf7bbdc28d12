import { randomUUID } from 'node:crypto';

import {
  BootRequested,
  EVENTS_STREAM_SUBJECTS,
  build,
  decodeEvent,
  definitionOf,
  encodeEvent,
  streamFor,
  subjectFor,
} from '#libs/contracts';
import type { StoredEvent } from '#libs/event-store';

import {
  EventMessageInvalid,
  encodeEventMessageBody,
  fromEventMessage,
  toEventMessage,
  type EventMessageBody,
} from './event-message.js';
import { BUS_HEADERS } from './headers.js';

const instanceId = randomUUID();

function stored(): StoredEvent<BootRequested> {
  const event = build(BootRequested, {
    instanceId,
    projectId: 'p-1',
    userId: 'u-1',
    name: 'web-1',
    flavor: { id: '2', name: 'm1.small', vcpus: 1, ramMb: 2048, diskGb: 20 },
    image: { id: randomUUID(), name: 'cirros', properties: { architecture: 'x86_64' } },
    metadata: {},
    requestedNetworks: 'none',
  });
  const decoded = decodeEvent(
    encodeEvent(event, {
      correlationId: 'req-1',
      causationId: null,
      actor: { userId: 'u-1', projectId: 'p-1', kind: 'user' },
      occurredAt: '2025-03-14T09:26:53.589Z',
    }),
  );
  return {
    type: decoded.type,
    data: decoded.data as BootRequested,
    metadata: decoded.metadata,
    stream: streamFor('instance', instanceId),
    revision: 7n,
    position: { commit: 9_007_199_254_740_993n, prepare: 9_007_199_254_740_992n },
  };
}

/** The message as received: subject, body bytes and the Nats-Msg-Id header (the body's event id). */
function received(
  body: EventMessageBody | object,
  overrides: { subject?: string; messageId?: string | undefined } = {},
): { subject: string; data: Uint8Array; messageId: string | undefined } {
  const metadata = (body as { metadata?: { eventId?: string } }).metadata;
  return {
    subject: overrides.subject ?? subjectFor(BootRequested),
    data: new TextEncoder().encode(JSON.stringify(body)),
    messageId: 'messageId' in overrides ? overrides.messageId : metadata?.eventId,
  };
}

function problemsOf(thrower: () => unknown): readonly string[] {
  try {
    thrower();
  } catch (error) {
    if (error instanceof EventMessageInvalid) return error.problems;
    throw error;
  }
  throw new Error('expected EventMessageInvalid');
}

describe(toEventMessage.name, () => {
  it('addresses the event by its subject, with the event id as message id and its origin in headers', () => {
    const event = stored();
    const message = toEventMessage(event);

    expect(message.subject).toBe('nimbus.evt.instance.BootRequested');
    expect(message.subject.startsWith(EVENTS_STREAM_SUBJECTS.slice(0, -1))).toBe(true);
    expect(message.messageId).toBe(event.metadata.eventId);
    expect(message.headers).toEqual({
      [BUS_HEADERS.eventType]: 'BootRequested',
      [BUS_HEADERS.stream]: event.stream,
      [BUS_HEADERS.correlationId]: 'req-1',
    });
  });

  it('writes revision and position as decimal strings, so 64-bit values survive JSON', () => {
    const { body } = toEventMessage(stored());
    expect(body).toMatchObject({
      revision: '7',
      position: { commit: '9007199254740993', prepare: '9007199254740992' },
      dataVersion: definitionOf('BootRequested').version,
    });
    expect(body.metadata).not.toHaveProperty('$correlationId');
  });

  it('refuses an event without a $all position', () => {
    expect(() => toEventMessage({ ...stored(), position: undefined })).toThrow(/no \$all position/);
  });
});

describe(fromEventMessage.name, () => {
  it('decodes what the relay wrote back into the same event with its place in the store', () => {
    const event = stored();
    const { body } = toEventMessage(event);
    const decoded = fromEventMessage({
      subject: subjectFor(BootRequested),
      data: encodeEventMessageBody(body),
      messageId: event.metadata.eventId,
    });

    expect(decoded.data).toBeInstanceOf(BootRequested);
    expect(decoded.data).toEqual(event.data);
    expect(decoded.metadata).toEqual(event.metadata);
    expect(decoded).toMatchObject({
      type: 'BootRequested',
      stream: event.stream,
      revision: 7n,
      position: event.position,
      messageId: event.metadata.eventId,
    });
  });

  it('rejects a body that is not JSON', () => {
    expect(
      problemsOf(() =>
        fromEventMessage({
          subject: 'nimbus.evt.instance.BootRequested',
          data: new Uint8Array([0xff]),
          messageId: 'x',
        }),
      ),
    ).toEqual(['the body is not UTF-8 JSON']);
  });

  it('names every missing or malformed envelope field, and unknown ones', () => {
    const { body } = toEventMessage(stored());
    const broken = { ...body, revision: -1, position: { commit: '1' }, extra: true } as unknown as object;
    expect(problemsOf(() => fromEventMessage(received(broken)))).toEqual([
      'property extra is not part of an event message',
      'revision must be an unsigned decimal string',
      'position must be { commit, prepare } as unsigned decimal strings',
    ]);
  });

  it('rejects a payload that breaks its contract, naming the property and not the value', () => {
    const { body } = toEventMessage(stored());
    const broken: EventMessageBody = { ...body, data: { ...body.data, name: 12345 } };
    const problems = problemsOf(() => fromEventMessage(received(broken)));
    expect(problems.join('\n')).toMatch(/name/);
    expect(problems.join('\n')).not.toMatch(/12345/);
  });

  it('rejects a message whose id, subject or stream disagree with its event', () => {
    const { body } = toEventMessage(stored());
    expect(problemsOf(() => fromEventMessage(received(body, { messageId: randomUUID() })))).toEqual([
      'the Nats-Msg-Id header is missing or differs from metadata.eventId',
    ]);
    expect(problemsOf(() => fromEventMessage(received(body, { messageId: undefined })))).toEqual([
      'the Nats-Msg-Id header is missing or differs from metadata.eventId',
    ]);
    expect(
      problemsOf(() => fromEventMessage(received(body, { subject: 'nimbus.evt.instance.StopRequested' }))),
    ).toEqual(['the subject is not the one of BootRequested']);
    expect(
      problemsOf(() => fromEventMessage(received({ ...body, stream: streamFor('instance', randomUUID()) }))),
    ).toEqual(['stream is not the one the BootRequested names']);
  });

  it('rejects a stored schema version above the version the data is at', () => {
    const { body } = toEventMessage(stored());
    const broken = { ...body, metadata: { ...body.metadata, schemaVersion: body.dataVersion + 1 } };
    expect(problemsOf(() => fromEventMessage(received(broken)))).toEqual([
      'metadata.schemaVersion must be an integer >= 1 and not above dataVersion',
    ]);
  });

  it('says where the broken event sits when the body got that far', () => {
    const { body } = toEventMessage(stored());
    expect(() => fromEventMessage(received(body, { messageId: undefined }))).toThrow(
      `(${streamFor('instance', instanceId)}@7)`,
    );
  });
});
