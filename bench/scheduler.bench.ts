/**
 * `npm run bench:scheduler`: one scheduling decision on its own, as the scheduler takes it between a
 * BootRequested and its claim: every host of the view made a candidate (its free resources computed),
 * the default filters run in order, both weighers normalised and summed, the ranking sorted. Over
 * 100, 1,000 and 10,000 hosts with varied free memory and CPU, ROUNDS decisions each after a warm-up,
 * in this process alone: what `npm run bench:boot`'s decision p95 would be without the rest of the
 * system competing for the cores. Prints a table and, last, one JSON line.
 */
import { performance } from 'node:perf_hooks';

import { candidateOf } from '../apps/scheduler/src/candidate.js';
import { FILTERS } from '../apps/scheduler/src/filters/index.js';
import { type SchedulingPolicy, selectHosts } from '../apps/scheduler/src/select-hosts.js';
import { hostState, spec } from '../apps/scheduler/src/testing/hosts.js';
import { cpuWeigher } from '../apps/scheduler/src/weighers/cpu.weigher.js';
import { ramWeigher } from '../apps/scheduler/src/weighers/ram.weigher.js';
import { percentile, report, round } from './support.js';

const SIZES = [100, 1_000, 10_000] as const;
const ROUNDS = 500;
const WARMUP = 100;

const policy: SchedulingPolicy = {
  filters: FILTERS,
  weighers: [
    { weigher: ramWeigher, multiplier: 1 },
    { weigher: cpuWeigher, multiplier: 1 },
  ],
  alternates: 2,
};

function decisionTimes(hosts: number): number[] {
  const states = Array.from({ length: hosts }, (_, index) =>
    hostState({
      name: `host-${String(index).padStart(5, '0')}`,
      vcpus: 64,
      ramMb: 262_144,
      diskGb: 2_000,
      usedRamMb: (index % 13) * 2_048,
      usedVcpus: index % 7,
      zone: index % 10 === 0 ? 'edge' : 'nova',
    }),
  );
  const times: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round += 1) {
    const request = spec();
    const started = performance.now();
    const selection = selectHosts(
      states.map((state) => candidateOf(state, 1n, true)),
      request,
      policy,
    );
    const took = performance.now() - started;
    if (selection.kind !== 'selected') throw new Error(`no host chosen over ${hosts} hosts`);
    if (round >= WARMUP) times.push(took);
  }
  return times;
}

const figures: Record<string, number> = {};
const rows: [string, string | number, string][] = [];
for (const hosts of SIZES) {
  const times = decisionTimes(hosts);
  const p50 = round(percentile(times, 50), 3);
  const p95 = round(percentile(times, 95), 3);
  const p99 = round(percentile(times, 99), 3);
  rows.push([
    `${hosts} hosts: decision p50 / p95 / p99 (ms)`,
    `${p50} / ${p95} / ${p99}`,
    `${ROUNDS} decisions`,
  ]);
  figures[`decisionP50Ms${hosts}Hosts`] = p50;
  figures[`decisionP95Ms${hosts}Hosts`] = p95;
  figures[`decisionP99Ms${hosts}Hosts`] = p99;
}
report('One scheduling decision, in this process alone', rows, figures);
