/**
 * The benchmarks' view of tracing: the per-boot hop table built from the spans the services exported,
 * and one boot's trace printed as a tree.
 */
import type { CollectedSpan } from '../test/support/trace-collector.js';
import { percentile } from './support.js';

/** One hop of a boot: which spans make it up. */
interface Hop {
  readonly name: string;
  readonly matches: (span: CollectedSpan) => boolean;
}

const named =
  (name: string, service?: string) =>
  (span: CollectedSpan): boolean =>
    span.name === name && (service === undefined || span.service === service);

/** A boot's path, in order; each hop is the spans of one trace that match it. */
export const BOOT_HOPS: readonly Hop[] = [
  { name: 'API accept and append', matches: named('api.accept POST /servers') },
  { name: 'store to relay (BootRequested)', matches: named('relay.receive BootRequested') },
  { name: 'relay publish (BootRequested)', matches: named('relay.publish BootRequested') },
  {
    name: 'JetStream to the scheduler',
    matches: named('jetstream.deliver BootRequested', 'nimbus-scheduler'),
  },
  { name: 'decision', matches: named('scheduler.decide') },
  { name: 'claim append', matches: named('store.append host', 'nimbus-scheduler') },
  { name: 'HostSelected append', matches: named('store.append instance', 'nimbus-scheduler') },
  { name: 'store to relay (HostSelected)', matches: named('relay.receive HostSelected') },
  { name: 'relay publish (HostSelected)', matches: named('relay.publish HostSelected') },
  { name: 'JetStream to the agent', matches: named('jetstream.deliver HostSelected', 'nimbus-compute') },
  { name: 'image resolution', matches: named('compute.image resolve') },
  { name: 'driver', matches: named('compute.driver spawn') },
  { name: 'DomainStarted append', matches: named('store.append instance', 'nimbus-compute') },
  { name: 'read model caught up', matches: named('api.read-model DomainStarted') },
];

const ROOT = 'api.accept POST /servers';
const ACTIVE = 'api.read-model DomainStarted';

export interface HopRow {
  readonly hop: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The hop's time over POST->ACTIVE, summed over every boot traced (hops may overlap). */
  readonly share: number;
}

export interface HopTable {
  readonly boots: number;
  readonly rows: readonly HopRow[];
  /** Boot traces by their POST->ACTIVE (API accept to the read model's DomainStarted), slowest last. */
  readonly traces: readonly { readonly traceId: string; readonly totalMs: number }[];
}

/** Per boot (one trace from API accept to the read model's DomainStarted), each hop's time. */
export function hopTable(spans: readonly CollectedSpan[]): HopTable {
  const byTrace = new Map<string, CollectedSpan[]>();
  for (const span of spans) {
    const list = byTrace.get(span.traceId) ?? [];
    list.push(span);
    byTrace.set(span.traceId, list);
  }
  const boots: { traceId: string; totalMs: number; hops: number[]; outsideMs: number }[] = [];
  for (const [traceId, list] of byTrace) {
    const root = list.find(named(ROOT));
    const active = list.find(named(ACTIVE));
    if (root === undefined || active === undefined) continue;
    const hops = BOOT_HOPS.map((hop) =>
      list.filter(hop.matches).reduce((sum, span) => sum + (span.endMs - span.startMs), 0),
    );
    const covered = coveredMs(
      list.filter((span) => BOOT_HOPS.some((hop) => hop.matches(span))),
      root.startMs,
      active.endMs,
    );
    boots.push({
      traceId,
      totalMs: active.endMs - root.startMs,
      hops,
      outsideMs: active.endMs - root.startMs - covered,
    });
  }
  const total = boots.reduce((sum, boot) => sum + boot.totalMs, 0);
  const row = (hop: string, times: readonly number[], share: number): HopRow => ({
    hop,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    share,
  });
  const shareOf = (times: readonly number[]): number => times.reduce((sum, time) => sum + time, 0) / total;
  const rows = BOOT_HOPS.map((hop, index) => {
    const times = boots.map((boot) => boot.hops[index] ?? 0);
    return row(hop.name, times, shareOf(times));
  });
  // Hops overlap (a relay receives an event while its writer still waits for the append's answer),
  // so what no hop covers is measured on the time line, not as the total less the hops' sum.
  const gaps = boots.map((boot) => boot.outsideMs);
  rows.push(row('outside every hop', gaps, shareOf(gaps)));
  rows.push(
    row(
      'POST->ACTIVE (traced)',
      boots.map((boot) => boot.totalMs),
      1,
    ),
  );
  return {
    boots: boots.length,
    rows,
    traces: boots.map(({ traceId, totalMs }) => ({ traceId, totalMs })).sort((a, b) => a.totalMs - b.totalMs),
  };
}

/** How much of [from, to] the spans cover, each instant counted once. */
function coveredMs(spans: readonly CollectedSpan[], from: number, to: number): number {
  const intervals = spans
    .map((span) => [Math.max(from, span.startMs), Math.min(to, span.endMs)] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reached = from;
  for (const [start, end] of intervals) {
    if (end <= reached) continue;
    covered += end - Math.max(start, reached);
    reached = end;
  }
  return covered;
}

/** One trace as an indented tree: each span's start after the trace's first, its length and service. */
export function traceTree(spans: readonly CollectedSpan[], traceId: string): string {
  const list = spans.filter((span) => span.traceId === traceId).sort((a, b) => a.startMs - b.startMs);
  const origin = Math.min(...list.map((span) => span.startMs));
  const ids = new Set(list.map((span) => span.spanId));
  const children = new Map<string | null, CollectedSpan[]>();
  for (const span of list) {
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, depth: number): void => {
    for (const span of children.get(parent) ?? []) {
      const at = `+${(span.startMs - origin).toFixed(2)} ms`.padStart(12);
      const length = `${(span.endMs - span.startMs).toFixed(2)} ms`.padStart(10);
      lines.push(`${at} ${length}  ${'  '.repeat(depth)}${span.name}  [${span.service}]`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(null, 0);
  return lines.join('\n');
}
