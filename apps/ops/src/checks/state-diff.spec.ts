import { diffStates } from './state-diff.js';

describe(diffStates.name, () => {
  it('names each changed field by its path, and nothing that stayed the same', () => {
    const before = { vmState: 'building', host: null, flavor: { id: '1' }, failedHosts: ['h1'] };
    const after = { vmState: 'active', host: 'h2', flavor: { id: '1' }, failedHosts: ['h1', 'h3'] };

    expect(diffStates(before, after)).toEqual([
      { path: 'vmState', before: 'building', after: 'active' },
      { path: 'host', before: null, after: 'h2' },
      { path: 'failedHosts[1]', before: undefined, after: 'h3' },
    ]);
  });

  it('finds no change between equal states', () => {
    expect(diffStates({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });

  it('reports a whole value when its kind changes', () => {
    expect(diffStates({ fault: null }, { fault: { code: 500 } })).toEqual([
      { path: 'fault', before: null, after: { code: 500 } },
    ]);
  });

  it("compares a Map (a network's ports by id) entry by entry", () => {
    const before = { ports: new Map([['p1', { deviceId: '' }]]) };
    const after = {
      ports: new Map([
        ['p1', { deviceId: 'vm-1' }],
        ['p2', { deviceId: '' }],
      ]),
    };
    expect(diffStates(before, after)).toEqual([
      { path: 'ports.p1.deviceId', before: '', after: 'vm-1' },
      { path: 'ports.p2', before: undefined, after: { deviceId: '' } },
    ]);
  });
});
