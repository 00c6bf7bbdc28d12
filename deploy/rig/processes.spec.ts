import { descendantsOf, parseProcStatus, type ProcessInfo } from './processes.js';

describe(parseProcStatus.name, () => {
  it('reads the parent, the real uid and the state letter', () => {
    const status = [
      'Name:\tlibvirtd',
      'Umask:\t0022',
      'State:\tS (sleeping)',
      'Tgid:\t4242',
      'Pid:\t4242',
      'PPid:\t1',
      'Uid:\t999\t999\t999\t999',
      'Gid:\t995\t995\t995\t995',
    ].join('\n');
    expect(parseProcStatus(4242, status)).toEqual({ pid: 4242, ppid: 1, uid: 999, state: 'S' });
  });

  it('gives undefined for text it cannot read, rather than a process with NaN fields', () => {
    expect(parseProcStatus(1, 'Name:\tx\n')).toBeUndefined();
  });
});

describe(descendantsOf.name, () => {
  const proc = (pid: number, ppid: number, state = 'S'): ProcessInfo => ({ pid, ppid, uid: 0, state });
  // sshd listener 10 -> per-connection monitor 11 -> user session 12 -> command 13; 20 is unrelated.
  const table = [
    proc(1, 0),
    proc(10, 1),
    proc(11, 10),
    proc(12, 11),
    proc(13, 12),
    proc(20, 1),
    proc(14, 10, 'Z'),
  ];

  it('finds children and grandchildren, not the root, strangers or zombies', () => {
    expect(descendantsOf(10, table).sort()).toEqual([11, 12, 13]);
  });

  it('finds nothing under a process without children', () => {
    expect(descendantsOf(20, table)).toEqual([]);
  });
});
