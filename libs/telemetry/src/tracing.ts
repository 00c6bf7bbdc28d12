/**
 * Tracing with OpenTelemetry: one trace follows a request from the API through the store, the relay,
 * JetStream, the scheduler and the compute agent, carried as W3C trace context (`traceparent`) in
 * NATS message headers and in each stored event's envelope, so a trace survives the store.
 *
 * Off and free unless an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, read with every other option by the process's config):
 * without a provider the API's tracer makes non-recording spans and `traceparentOf` returns nothing, so
 * no event or message carries trace context. With one, spans are batched and sent over OTLP/HTTP.
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

/** What `startTracing` hands back: flush and stop before the process exits. */
export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

const tracer = trace.getTracer('nimbus');

/** W3C trace context's one header: version 00, trace id, parent span id, flags. */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Where to export, as OpenTelemetry's exporter variables name it; neither set: tracing is off. */
export interface TracingEndpoints {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: a collector's base URL; spans go to its `/v1/traces`. */
  readonly otlpEndpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full URL for spans; wins over the base. */
  readonly otlpTracesEndpoint?: string | undefined;
}

/**
 * Starts exporting this process's spans when an OTLP endpoint is configured; does nothing otherwise,
 * and then the SDK and the exporter are not even loaded (about 9 MiB a process). Call once, before
 * the application is created, so every span has the context manager behind it.
 */
export async function startTracing(service: string, endpoints: TracingEndpoints): Promise<Tracing> {
  const url = tracesUrl(endpoints);
  if (url === null) return { enabled: false, shutdown: () => Promise.resolve() };
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { enabled: true, shutdown: () => provider.shutdown() };
}

/** The traces URL: the traces endpoint as given, or the base one with the signal's path appended. */
function tracesUrl({ otlpEndpoint = '', otlpTracesEndpoint = '' }: TracingEndpoints): string | null {
  const url =
    otlpTracesEndpoint !== ''
      ? otlpTracesEndpoint
      : otlpEndpoint !== ''
        ? `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces`
        : null;
  if (url !== null && !/^https?:$/.test(URL.parse(url)?.protocol ?? ''))
    throw new Error(`OTLP endpoint is not an http(s) URL: ${url}`);
  return url;
}

/** Runs `work` in a new span, child of the active one (or of `parent`), ended when it settles. */
export function inSpan<T>(
  name: string,
  work: (span: Span) => Promise<T>,
  options: { readonly attributes?: Attributes; readonly parent?: Context } = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(name, { attributes: options.attributes ?? {} }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Records a span that began earlier and ends now: work already done (a decision timed by the caller),
 * or the time a message spent between two processes (since a store commit or a JetStream publish, by
 * the sender's clock). `startMs` is epoch milliseconds. Nothing is recorded outside a trace.
 */
export function recordSpan(
  name: string,
  startMs: number,
  parent: Context = context.active(),
  attributes: Attributes = {},
): void {
  if (trace.getSpanContext(parent) === undefined) return;
  const span = tracer.startSpan(name, { startTime: Math.min(startMs, Date.now()), attributes }, parent);
  span.end();
}

/** The active span's `traceparent`, for an event's envelope or a message header; undefined when off. */
export function traceparentOf(active: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  const value = carrier['traceparent'];
  return value !== undefined && TRACEPARENT.test(value) ? value : undefined;
}

/** The context a `traceparent` names (the root context for none or a malformed one). */
export function contextOf(traceparent: string | undefined | null): Context {
  if (traceparent === undefined || traceparent === null || !TRACEPARENT.test(traceparent))
    return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
