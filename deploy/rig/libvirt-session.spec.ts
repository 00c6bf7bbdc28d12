import { renderSessionQemuConf, VNC_PORTS_PER_HOST, vncPortRange } from './libvirt-session.js';

describe(vncPortRange.name, () => {
  it('gives neighbouring uids ranges that touch but do not overlap', () => {
    const a = vncPortRange(998);
    const b = vncPortRange(999);
    expect(a.max - a.min + 1).toBe(VNC_PORTS_PER_HOST);
    expect(b.min).toBe(a.max + 1);
  });

  it('keeps every system uid between 5900 and the start of the ephemeral ports', () => {
    for (const uid of [0, 100, 999, 1000, 1999]) {
      const { min, max } = vncPortRange(uid);
      expect(min).toBeGreaterThanOrEqual(5900);
      expect(max).toBeLessThan(32768);
    }
  });
});

describe(renderSessionQemuConf.name, () => {
  it('pins VNC to loopback and to the host range', () => {
    const conf = renderSessionQemuConf(100);
    expect(conf).toContain('vnc_listen = "127.0.0.1"');
    expect(conf).toContain('remote_display_port_min = 8400');
    expect(conf).toContain('remote_display_port_max = 8424');
  });
});
