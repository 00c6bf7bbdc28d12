/**
 * An OTLP/HTTP (JSON) trace receiver on a free loopback port: what services export their spans to in
 * tests and benchmarks (OTEL_EXPORTER_OTLP_ENDPOINT), each span kept with its service's name.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly service: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface TraceCollector {
  /** What to put in OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: CollectedSpan[];
  stop(): Promise<void>;
}

interface OtlpValue {
  readonly stringValue?: string;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startTimeUnixNano: string | number;
  readonly endTimeUnixNano: string | number;
}
interface OtlpExport {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly { key: string; value: OtlpValue }[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[];
  }[];
}

const nanosToMs = (nanos: string | number): number => Number(BigInt(nanos) / 1000n) / 1000;

/** Receives OTLP/HTTP JSON exports on a free loopback port and keeps every span. */
export async function startTraceCollector(): Promise<TraceCollector> {
  const spans: CollectedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        if (request.method !== 'POST' || request.url !== '/v1/traces')
          throw new Error(`${request.method} ${request.url}`);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const resource of body.resourceSpans ?? []) {
          const service =
            resource.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value
              .stringValue ?? '?';
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              spans.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId:
                  span.parentSpanId === undefined || span.parentSpanId === '' ? null : span.parentSpanId,
                name: span.name,
                service,
                startMs: nanosToMs(span.startTimeUnixNano),
                endMs: nanosToMs(span.endTimeUnixNano),
              });
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        response.writeHead(400).end((error as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
