import type { InstanceState } from '#libs/domain';
import { given, serverStory } from '#libs/domain/testing';

import {
  activeIn,
  novaTime,
  parseUsageTime,
  serverUsage,
  tenantUsages,
  usagePeriod,
} from './tenant-usage.js';

const at = (iso: string): number => Date.parse(`${iso}Z`);
const NOW = at('2026-06-10T12:00:00');

/** A running server of the story (m1.nano: 1 vCPU, 64 MiB) launched and, optionally, terminated at these times. */
function server(launchedAt: string | null, terminatedAt: string | null = null): InstanceState {
  const running = given(...serverStory().running);
  return {
    ...running,
    flavor: { id: '1', name: 'm1.small', vcpus: 2, ramMb: 2048, diskGb: 20 },
    launchedAt: launchedAt === null ? null : `${launchedAt}Z`,
    terminatedAt: terminatedAt === null ? null : `${terminatedAt}Z`,
    vmState: terminatedAt === null ? 'active' : 'deleted',
  };
}

describe('simple tenant usage', () => {
  describe('reading the period', () => {
    it.each([
      ['2026-06-01T00:00:00', at('2026-06-01T00:00:00')],
      ['2026-06-01T00:00:00.25', at('2026-06-01T00:00:00.250')],
      ['2026-06-01 08:30:00.000001', at('2026-06-01T08:30:00')],
    ])('reads %p as UTC', (text, expected) => {
      expect(parseUsageTime(text, NOW)).toBe(expected);
    });

    it('takes now for a missing end', () => {
      expect(parseUsageTime(undefined, NOW)).toBe(NOW);
    });

    it.each([
      '2026-06-01',
      '2026-02-30T00:00:00',
      '2026-06-01T24:00:00',
      '2026-06-01T00:00:00Z',
      'yesterday',
    ])('refuses %p as Nova does', (text) => {
      expect(() => parseUsageTime(text, NOW)).toThrow(
        'Invalid datetime string: Datetime is in invalid format',
      );
    });

    it('refuses a start that is not before the end', () => {
      expect(() => usagePeriod('2026-06-02T00:00:00', '2026-06-01T00:00:00', NOW)).toThrow(
        'Invalid start time. The start time cannot occur after the end time.',
      );
    });

    it('cuts an end in the future to now', () => {
      expect(usagePeriod('2026-06-01T00:00:00', '2027-01-01T00:00:00', NOW)).toEqual({
        start: at('2026-06-01T00:00:00'),
        stop: NOW,
      });
    });
  });

  describe('which servers count', () => {
    const period = { start: at('2026-06-01T00:00:00'), stop: at('2026-06-02T00:00:00') };

    it.each([
      ['never launched', server(null), false],
      ['launched after the period', server('2026-06-02T00:00:00'), false],
      ['terminated before the period', server('2026-05-01T00:00:00', '2026-06-01T00:00:00'), false],
      ['running through it', server('2026-05-01T00:00:00'), true],
      ['terminated during it', server('2026-05-01T00:00:00', '2026-06-01T00:00:01'), true],
    ])('%s: %p', (_label, instance, expected) => {
      expect(activeIn(instance, period)).toBe(expected);
    });
  });

  describe('the bill', () => {
    const period = { start: at('2026-06-01T00:00:00'), stop: at('2026-06-02T00:00:00') };

    it('bills from launch to the end of the period for a server still running', () => {
      const line = serverUsage(server('2026-06-01T18:00:00'), period, NOW);
      expect(line).toMatchObject({
        hours: 6,
        vcpus: 2,
        memory_mb: 2048,
        local_gb: 20,
        flavor: 'm1.small',
        state: 'active',
        started_at: '2026-06-01T18:00:00.000000',
        ended_at: null,
        uptime: (NOW - at('2026-06-01T18:00:00')) / 1000,
      });
    });

    it('bills from the start of the period to termination for a server deleted during it', () => {
      const line = serverUsage(server('2026-05-31T00:00:00', '2026-06-01T01:30:00'), period, NOW);
      expect(line).toMatchObject({
        hours: 1.5,
        state: 'terminated',
        ended_at: '2026-06-01T01:30:00.000000',
        uptime: 25.5 * 3600,
      });
    });

    it('sums a project by flavor size and hours, with the lines only when detailed', () => {
      const lines = [
        serverUsage(server('2026-06-01T18:00:00'), period, NOW),
        serverUsage(server('2026-05-31T00:00:00', '2026-06-01T01:30:00'), period, NOW),
      ];
      const [usage] = tenantUsages(lines, period, true);
      expect(usage).toMatchObject({
        tenant_id: 'p-1',
        start: '2026-06-01T00:00:00.000000',
        stop: '2026-06-02T00:00:00.000000',
        total_hours: 7.5,
        total_vcpus_usage: 15,
        total_memory_mb_usage: 7.5 * 2048,
        total_local_gb_usage: 150,
      });
      expect(usage?.server_usages).toHaveLength(2);
      expect(tenantUsages(lines, period, false)[0]).not.toHaveProperty('server_usages');
    });

    it('renders times as Nova does, with microseconds', () => {
      expect(novaTime(at('2026-06-01T00:00:00.123'))).toBe('2026-06-01T00:00:00.123000');
    });
  });
});
