/** Which parts each shape of system runs, in start order, and that `down` knows every one of them. */
import { PARTS, partsFor } from './parts.js';

const names = (options: Parameters<typeof partsFor>[0]): string[] =>
  partsFor(options).map((part) => part.name);

describe(partsFor.name, () => {
  it('runs one of each part on the rig by default', () => {
    expect(names({ driver: 'libvirt', dashboard: false, cluster: false })).toEqual([
      'event-store',
      'nats',
      'rig',
      'api',
      'guest-image',
      'external-network',
      'scheduler',
      'console-proxy',
      'compute',
    ]);
  });

  it('runs the replicated parts instead with --cluster, the balancer before the replicas it fronts', () => {
    expect(names({ driver: 'libvirt', dashboard: true, cluster: true })).toEqual([
      'event-store',
      'nats-cluster',
      'rig',
      'balancer',
      'api-1',
      'api-2',
      'guest-image',
      'external-network',
      'dashboard',
      'scheduler-1',
      'scheduler-2',
      'console-proxy-1',
      'console-proxy-2',
      'compute-1',
      'compute-2',
    ]);
  });

  it('runs no rig and no console proxy on simulated hosts, clustered or not', () => {
    const clustered = names({ driver: 'fake', dashboard: false, cluster: true });
    expect(clustered).toContain('boot-image');
    expect(clustered.filter((name) => name === 'rig' || name.startsWith('console-proxy'))).toEqual([]);
  });

  it('lets down stop every part either shape starts, each known by one name', () => {
    const all = PARTS.map((part) => part.name);
    expect(new Set(all).size).toBe(all.length);
    for (const cluster of [false, true])
      for (const driver of ['libvirt', 'fake'] as const)
        expect(all).toEqual(expect.arrayContaining(names({ driver, dashboard: true, cluster })));
  });
});
