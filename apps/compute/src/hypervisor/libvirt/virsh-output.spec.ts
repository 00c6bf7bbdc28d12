import {
  eventsReceived,
  parseDiskFree,
  parseDomainList,
  parseDomainStates,
  parseNodeInfo,
  parseQemuImgInfo,
  parseVncDisplay,
  UnexpectedOutput,
} from './virsh-output.js';

// Samples are what libvirt 9.0 and coreutils 9.1 print on Debian 12 under LC_ALL=C.

describe('virsh output parsers', () => {
  it('reads uuid and name pairs from virsh list, names with spaces included', () => {
    const output =
      '11111111-2222-3333-4444-555555555555 t1\n' +
      '6F1C2A4E-3B7D-4C9E-8A21-0D5E9B3F7C10 nimbus-6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10\n' +
      '21111111-2222-3333-4444-555555555555 someone else s vm\n\n';
    expect(parseDomainList(output)).toEqual([
      { uuid: '11111111-2222-3333-4444-555555555555', name: 't1' },
      { uuid: '6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10', name: 'nimbus-6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10' },
      { uuid: '21111111-2222-3333-4444-555555555555', name: 'someone else s vm' },
    ]);
    expect(parseDomainList('\n')).toEqual([]);
    expect(() => parseDomainList(' Id   Name   State\n')).toThrow(UnexpectedOutput);
  });

  it('reads each domain state from virsh domstats --state', () => {
    const output =
      "Domain: 't1'\n  state.state=5\n  state.reason=2\n\nDomain: 'it''s'\n  state.state=1\n  state.reason=1\n\n";
    expect(parseDomainStates(output)).toEqual(
      new Map([
        ['t1', 'shutoff'],
        ["it''s", 'running'],
      ]),
    );
  });

  it('reads CPUs and memory from virsh nodeinfo', () => {
    const output =
      'CPU model:           x86_64\nCPU(s):              2\nCPU frequency:       2596 MHz\n' +
      'CPU socket(s):       1\nCore(s) per socket:  2\nThread(s) per core:  1\nNUMA cell(s):        1\n' +
      'Memory size:         5335244 KiB\n\n';
    expect(parseNodeInfo(output)).toEqual({ vcpus: 2, memoryKib: 5335244 });
    expect(() => parseNodeInfo('error\n')).toThrow(UnexpectedOutput);
  });

  it('reads total and available KiB from df -P -k, mount points with spaces included', () => {
    const output =
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n' +
      '/dev/vda         264212084 24480348  81910564      24% /\n';
    expect(parseDiskFree(output)).toEqual({ totalKib: 264212084, availableKib: 81910564 });
    const spaced =
      'Filesystem 1024-blocks Used Available Capacity Mounted on\nmy disk 100 40 60 40% /mnt/my disk\n';
    expect(parseDiskFree(spaced)).toEqual({ totalKib: 100, availableKib: 60 });
    expect(() => parseDiskFree('df: /nope: No such file or directory\n')).toThrow(UnexpectedOutput);
  });

  it('turns a loopback VNC display into a port and refuses any other listener', () => {
    expect(parseVncDisplay('vnc://127.0.0.1:24975\n\n')).toEqual({ address: '127.0.0.1', port: 30875 });
    expect(parseVncDisplay('vnc://localhost:0\n')).toEqual({ address: '127.0.0.1', port: 5900 });
    expect(() => parseVncDisplay('vnc://0.0.0.0:1\n')).toThrow(UnexpectedOutput);
    expect(() => parseVncDisplay('spice://127.0.0.1:5930\n')).toThrow(UnexpectedOutput);
    expect(() => parseVncDisplay('vnc://127.0.0.1:99999\n')).toThrow(UnexpectedOutput);
    expect(() => parseVncDisplay('')).toThrow(UnexpectedOutput);
  });

  it('reads format, virtual size and any backing file from qemu-img info', () => {
    const base = '{"virtual-size": 512, "filename": "base.qcow2", "format": "qcow2", "actual-size": 393216}';
    expect(parseQemuImgInfo(base)).toEqual({
      format: 'qcow2',
      virtualSizeBytes: 512,
      backingFile: undefined,
    });
    const overlay =
      '{"virtual-size": 1073741824, "format": "qcow2", "backing-filename": "/etc/shadow", "backing-filename-format": "raw"}';
    expect(parseQemuImgInfo(overlay).backingFile).toBe('/etc/shadow');
    expect(() => parseQemuImgInfo('qemu-img: Could not open')).toThrow(UnexpectedOutput);
    expect(() => parseQemuImgInfo('{"format": 3}')).toThrow(UnexpectedOutput);
  });

  it('counts the events virsh event received', () => {
    expect(eventsReceived("event 'reboot' for domain 't1'\nevents received: 1\n\n")).toBe(1);
    expect(eventsReceived('event loop timed out\nevents received: 0\n\n')).toBe(0);
    expect(eventsReceived('')).toBe(0);
  });
});
