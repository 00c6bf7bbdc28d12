/**
 * Tracing across the store: off, nothing carries trace context; on, an append made inside a span is
 * exported over OTLP as that span's child, and the stored event's envelope names the append's span,
 * so whoever reacts to the event joins the same trace. Real OTLP/HTTP to a receiver on loopback,
 * real appends to the embedded store.
 */
import { EventStoreDBClient } from '@eventstore/db-client';
import { context, propagation, trace } from '@opentelemetry/api';

import { streamFor } from '#libs/contracts';
import { decideBoot, instanceReducer } from '#libs/domain';
import { EventStore } from '#libs/event-store';
import { type Tracing, contextOf, inSpan, recordSpan, startTracing, traceparentOf } from '#libs/telemetry';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { eventually } from '../../../test/support/eventually.js';
import { bootCommand, userContext } from '../../../test/support/instances.js';
import { collect } from '../../../test/support/streams.js';
import { type TraceCollector, startTraceCollector } from '../../../test/support/trace-collector.js';

let server: EventStoreProcess;
let client: EventStoreDBClient;
let store: EventStore;
let collector: TraceCollector;
let tracing: Tracing | null = null;

beforeAll(async () => {
  server = await startEventStoreProcess();
  client = EventStoreDBClient.connectionString(server.connectionString);
  store = new EventStore(client);
  collector = await startTraceCollector();
});

afterAll(async () => {
  await tracing?.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await client.dispose();
  await server.stop();
  await collector.stop();
});

async function bootAppended(): Promise<{ traceparent: string | undefined }> {
  const command = bootCommand();
  const stream = streamFor('instance', command.instanceId);
  await store.execute(stream, instanceReducer, (state) => decideBoot(state, command), userContext());
  const [event] = await collect(store.read(stream));
  return { traceparent: event?.metadata.traceparent };
}

describe('tracing', () => {
  it('is off without an OTLP endpoint: no span context, nothing in the envelope', async () => {
    expect((await startTracing('test', {})).enabled).toBe(false);
    const inside = await inSpan('work', () => Promise.resolve(traceparentOf()));
    expect(inside).toBeUndefined();
    expect((await bootAppended()).traceparent).toBeUndefined();
  });

  it('refuses an endpoint that is not a URL, before anything starts', async () => {
    await expect(startTracing('test', { otlpEndpoint: 'collector:4318' })).rejects.toThrow(
      'OTLP endpoint is not an http(s) URL: collector:4318/v1/traces',
    );
  });

  it('reads a traceparent back only when it is well formed', () => {
    expect(trace.getSpanContext(contextOf('00-zz-11-01'))).toBeUndefined();
    expect(trace.getSpanContext(contextOf(undefined))).toBeUndefined();
  });

  it("on, exports an append as its caller's child and stamps the append's span on the event", async () => {
    tracing = await startTracing('nimbus-test', { otlpEndpoint: collector.endpoint });
    expect(tracing.enabled).toBe(true);
    const { traceparent } = await inSpan('request', () => bootAppended());
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = (traceparent ?? '').split('-');

    // A reaction in another process starts from the envelope and joins the trace.
    const reacting = contextOf(traceparent);
    recordSpan('relay.receive BootRequested', Date.now() - 5, reacting);
    await tracing.shutdown();

    const spans = await eventually('the spans to be exported', () =>
      collector.spans.length >= 4 ? collector.spans : undefined,
    );
    const byName = new Map(spans.map((span) => [span.name, span]));
    const request = byName.get('request');
    const decision = byName.get('store.execute instance');
    const append = byName.get('store.append instance');
    const received = byName.get('relay.receive BootRequested');
    expect(decision).toMatchObject({ traceId, parentSpanId: request?.spanId, service: 'nimbus-test' });
    expect(append).toMatchObject({ traceId, spanId, parentSpanId: decision?.spanId });
    expect(received).toMatchObject({ traceId, parentSpanId: spanId });
    expect((received?.endMs ?? 0) - (received?.startMs ?? 0)).toBeGreaterThanOrEqual(4);
  });
});
