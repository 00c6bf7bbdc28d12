import { shareOut } from './share-out.js';

const hosts = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `host.hv-${String(index + 1).padStart(3, '0')}`);
const loads = (owners: Map<string, string>): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const holder of owners.values()) counts[holder] = (counts[holder] ?? 0) + 1;
  return counts;
};

describe(shareOut.name, () => {
  it('gives each of two members one of two keys, and one member every key', () => {
    const keys = hosts(2);
    const owners = shareOut([
      { holder: 'compute-1', wants: keys },
      { holder: 'compute-2', wants: keys },
    ]);
    expect(loads(owners)).toEqual({ 'compute-1': 1, 'compute-2': 1 });
    expect(loads(shareOut([{ holder: 'compute-1', wants: keys }]))).toEqual({ 'compute-1': 2 });
  });

  it('gives no member more than its share (the keys over the members, rounded up), whatever order they are listed in', () => {
    const keys = hosts(100);
    const members = ['a', 'b', 'c'].map((holder) => ({ holder, wants: keys }));
    const owners = shareOut(members);
    const counts = Object.values(loads(owners));
    expect(counts).toHaveLength(3);
    expect(Math.max(...counts)).toBeLessThanOrEqual(34);
    expect([...owners.keys()].sort()).toEqual(keys);
    expect(shareOut([...members].reverse())).toEqual(owners);
  });

  it('moves few keys beyond those the newcomer takes when a member joins', () => {
    const keys = hosts(120);
    const before = shareOut(['a', 'b', 'c'].map((holder) => ({ holder, wants: keys })));
    const after = shareOut(['a', 'b', 'c', 'd'].map((holder) => ({ holder, wants: keys })));
    const moved = keys.filter((key) => before.get(key) !== after.get(key));
    expect(loads(after)).toEqual({ a: 30, b: 30, c: 30, d: 30 });
    // The newcomer's 30 must move; a reshuffle would move about 90.
    expect(moved.length).toBeLessThanOrEqual(45);
    expect(moved.filter((key) => after.get(key) !== 'd').length).toBeLessThanOrEqual(15);
  });

  it('gives a key only to a member that wants it, balancing what it can', () => {
    const owners = shareOut([
      { holder: 'rack-1', wants: ['host.a', 'host.b', 'host.c', 'host.d'] },
      { holder: 'rack-2', wants: ['host.c', 'host.d', 'host.e', 'host.f'] },
    ]);
    expect(owners.get('host.a')).toBe('rack-1');
    expect(owners.get('host.e')).toBe('rack-2');
    expect(loads(owners)).toEqual({ 'rack-1': 3, 'rack-2': 3 });
    expect(shareOut([])).toEqual(new Map());
  });

  it('counts a member listed twice once', () => {
    const keys = hosts(4);
    expect(
      loads(
        shareOut([
          { holder: 'a', wants: keys },
          { holder: 'a', wants: keys },
          { holder: 'b', wants: keys },
        ]),
      ),
    ).toEqual({ a: 2, b: 2 });
  });
});
