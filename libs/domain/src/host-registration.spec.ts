import { HostRegistered, InventoryReported, build } from '#libs/contracts';

import { hostReducer } from './host.js';
import { decideRegistration } from './host-registration.js';
import { foldAll } from './testing/given.js';
import { inventory, registered, registration, reported } from './testing/hosts.js';

describe('host registration', () => {
  it('registers a new host and reports its inventory', () => {
    expect(decideRegistration(foldAll(hostReducer, []), registration, inventory)).toEqual({
      events: [registered, reported],
      firstRegistration: true,
      inventoryChanged: true,
    });
  });

  it('appends nothing for a host registered as it is, so a restarted agent registers it once', () => {
    expect(decideRegistration(foldAll(hostReducer, [registered, reported]), registration, inventory)).toEqual(
      {
        events: [],
        firstRegistration: false,
        inventoryChanged: false,
      },
    );
  });

  it('reports only the inventory when only what the host offers changed', () => {
    const grown = { ...inventory, ramMb: 2048 };
    expect(decideRegistration(foldAll(hostReducer, [registered, reported]), registration, grown)).toEqual({
      events: [build(InventoryReported, { host: 'h1', ...grown })],
      firstRegistration: false,
      inventoryChanged: true,
    });
  });

  it('registers again when the operator moved the host to another zone', () => {
    const moved = { ...registration, availabilityZone: 'az-east' };
    expect(decideRegistration(foldAll(hostReducer, [registered, reported]), moved, inventory).events).toEqual(
      [build(HostRegistered, moved)],
    );
  });
});
