import { LIMITS, PARTITIONABLE, TARGETS, planSchedule } from './schedule.js';

const options = { seed: 1, rounds: 30, maxLiveServers: 6 };

describe(planSchedule.name, () => {
  it('plans the same faults and operations for the same seed', () => {
    expect(planSchedule(options)).toEqual(planSchedule(options));
  });

  it('plans differently for another seed', () => {
    expect(planSchedule({ ...options, seed: 2 })).not.toEqual(planSchedule(options));
  });

  it('plans one round per round asked for, numbered from 1', () => {
    expect(planSchedule(options).map((round) => round.index)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });

  it('hits every part once in each run of as many rounds as there are parts', () => {
    const targets = planSchedule(options).map((round) => round.fault.target);
    for (let start = 0; start + TARGETS.length <= targets.length; start += TARGETS.length) {
      expect([...targets.slice(start, start + TARGETS.length)].sort()).toEqual([...TARGETS].sort());
    }
  });

  it('partitions only parts that listen on a port', () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      for (const { fault } of planSchedule({ ...options, seed })) {
        if (fault.kind === 'partition') expect(PARTITIONABLE.has(fault.target)).toBe(true);
      }
    }
  });

  it('keeps every fault and operation within the bounds of a round', () => {
    for (const round of planSchedule({ ...options, rounds: 200 })) {
      const [minMs, maxMs] = LIMITS.faultMs[round.fault.kind];
      expect(round.fault.durationMs).toBeGreaterThanOrEqual(minMs);
      expect(round.fault.durationMs).toBeLessThanOrEqual(maxMs);
      expect(round.fault.atMs).toBeLessThanOrEqual(LIMITS.faultStartMs[1]);
      expect(round.operations.length).toBeGreaterThanOrEqual(LIMITS.operationsPerRound[0]);
      expect(round.operations.length).toBeLessThanOrEqual(LIMITS.operationsPerRound[1]);
      for (const operation of round.operations) {
        expect(operation.atMs).toBeLessThanOrEqual(LIMITS.operationWindowMs[1]);
        expect(operation.pick >= 0 && operation.pick < 1).toBe(true);
      }
    }
  });

  it('never plans more live servers than allowed, and boots first when there are none', () => {
    let live = 0;
    for (const round of planSchedule({ ...options, rounds: 200 })) {
      for (const operation of round.operations) {
        if (live === 0) expect(operation.kind).toBe('boot');
        if (operation.kind === 'boot') live += 1;
        if (operation.kind === 'delete') live -= 1;
        expect(live).toBeLessThanOrEqual(options.maxLiveServers);
        expect(live).toBeGreaterThanOrEqual(0);
      }
    }
  });
});
