import { HostLiveness } from './host-liveness.js';

describe(HostLiveness.name, () => {
  let clock = 0;
  const liveness = (): HostLiveness => new HostLiveness(10_000, () => clock);

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('holds a host never heard from down', () => {
    expect(liveness().isUp('hv1')).toBe(false);
  });

  it('holds a host up until its last beat is older than the down time, as Nova does', () => {
    const hosts = liveness();
    hosts.heard('hv1');
    clock += 10_000;
    expect(hosts.isUp('hv1')).toBe(true);
    clock += 1;
    expect(hosts.isUp('hv1')).toBe(false);
  });

  it('judges a host by a beat kept from before its own start', () => {
    const hosts = liveness();
    hosts.heard('hv1', clock - 4_000);
    hosts.heard('hv2', clock - 11_000);
    expect([hosts.isUp('hv1'), hosts.isUp('hv2')]).toEqual([true, false]);
  });

  it('keeps the newest beat when an older one arrives late', () => {
    const hosts = liveness();
    hosts.heard('hv1', clock);
    hosts.heard('hv1', clock - 60_000);
    expect(hosts.lastHeardAt('hv1')).toBe(clock);
  });
});
