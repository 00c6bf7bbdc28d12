import { BootRequested, DomainStarted, HostSelected, ResourcesClaimed, build } from '#libs/contracts';

import { bootData, claimData, selectedData, startedData } from '../testing/fixtures.js';
import { causationForest, renderForest } from './causation.js';
import { History } from '../testing/history.js';

describe(causationForest.name, () => {
  it('puts each event under the one it reacted to, across streams, in the order they were written', () => {
    const history = new History();
    const boot = history.add('instance-i', build(BootRequested, bootData()));
    const claim = history.add('host-h1', build(ResourcesClaimed, claimData('h1')), boot);
    const selected = history.add('instance-i', build(HostSelected, selectedData('h1')), boot);
    history.add('instance-i', build(DomainStarted, startedData('h1')), selected);

    const forest = causationForest([...history.events].reverse());

    expect(renderForest(forest, (event) => event.type)).toEqual([
      'BootRequested',
      '├─ ResourcesClaimed',
      '└─ HostSelected',
      '   └─ DomainStarted',
    ]);
    expect(forest[0]?.children.map((node) => node.event)).toEqual([claim, selected]);
  });

  it('makes an event whose cause is not among those given a root of its own', () => {
    const history = new History();
    const boot = history.add('instance-i', build(BootRequested, bootData()));
    const selected = history.add('instance-i', build(HostSelected, selectedData('h1')), boot);

    const forest = causationForest([selected]);

    expect(forest.map((node) => node.event.type)).toEqual(['HostSelected']);
  });
});
