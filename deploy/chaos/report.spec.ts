import type { OperationRecord } from './checker.js';
import { type RunOutcome, formatReport } from './report.js';

const options = { seed: 5, rounds: 2, hosts: 3, settleSeconds: 120 };
const boot: OperationRecord = {
  seq: 1,
  round: 1,
  atMs: 250,
  repliedAtMs: 400,
  kind: 'boot',
  method: 'POST',
  path: '/servers',
  status: 202,
  serverId: '0f8c9c55-2b43-4a51-9a7e-6b1a8f0f4c11',
  serverName: 'chaos-5-1',
  requestId: 'req-1',
  tokenHash: null,
  error: null,
};
const outcome: RunOutcome = {
  options,
  faults: [
    {
      round: 1,
      kind: 'kill',
      target: 'scheduler',
      atMs: 100,
      healedAtMs: 2_300,
      detail: 'SIGKILL pid 42',
      error: null,
    },
    {
      round: 2,
      kind: 'partition',
      target: 'nats',
      atMs: 3_000,
      healedAtMs: 5_000,
      detail: 'TCP dropped',
      error: null,
    },
  ],
  operations: [boot],
  violations: [],
  settledAfterMs: 4_000,
  interrupted: false,
  durationMs: 20_000,
};

describe(formatReport.name, () => {
  it('ends with one JSON object of the run figures', () => {
    const lines = formatReport(outcome);
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
      seed: 5,
      rounds: 2,
      operations: 1,
      faults: 2,
      violations: 0,
    });
  });

  it('says an interrupted run checked nothing, and counts only the rounds it played', () => {
    const lines = formatReport({ ...outcome, faults: outcome.faults.slice(0, 1), interrupted: true });
    expect(lines).toContain('Interrupted after 1 of 2 rounds: nothing was checked.');
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
      seed: 5,
      rounds: 1,
      operations: 1,
      faults: 1,
      violations: null,
    });
  });

  it('lists every fault with its round, target and when it healed', () => {
    const lines = formatReport(outcome).join('\n');
    expect(lines).toMatch(/1 +0\.1s +kill +scheduler +SIGKILL pid 42 +2\.3s/);
    expect(lines).toMatch(/2 +3\.0s +partition +nats/);
  });

  it('shows each violation with the events behind it and the seed that reproduces the run', () => {
    const lines = formatReport({
      ...outcome,
      settledAfterMs: null,
      violations: [
        {
          invariant: 'boot-active',
          message: 'server x ended ERROR',
          events: [{ stream: 'instance-x', type: 'InstanceFailed', revision: 3, detail: 'fault: boom' }],
        },
      ],
    });
    const text = lines.join('\n');
    expect(text).toContain('[boot-active] server x ended ERROR');
    expect(text).toContain('instance-x@3 InstanceFailed (fault: boom)');
    expect(text).toContain('npm run chaos -- --seed 5 --rounds 2 --hosts 3');
    expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({ violations: 1 });
  });
});
