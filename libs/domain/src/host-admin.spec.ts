import { HostDisabled, HostEnabled, HostRegistered, build } from '#libs/contracts';

import { decideHostAdmin } from './host-admin.js';
import { hostReducer } from './host.js';
import { foldAll } from './testing/given.js';

const registered = build(HostRegistered, {
  host: 'h1',
  availabilityZone: 'nova',
  hypervisorType: 'qemu',
  cpuArch: 'x86_64',
});

describe(decideHostAdmin.name, () => {
  it('disables an enabled host with the reason given', () => {
    const given = foldAll(hostReducer, [registered]);
    const then = decideHostAdmin(given, 'h1', { enable: false, reason: 'maintenance' });
    expect(then).toEqual([build(HostDisabled, { host: 'h1', reason: 'maintenance' })]);
  });

  it('disables without a reason when the reason is empty', () => {
    const given = foldAll(hostReducer, [registered]);
    expect(decideHostAdmin(given, 'h1', { enable: false, reason: '' })).toEqual([
      build(HostDisabled, { host: 'h1' }),
    ]);
  });

  it('enables a disabled host', () => {
    const given = foldAll(hostReducer, [registered, build(HostDisabled, { host: 'h1' })]);
    expect(decideHostAdmin(given, 'h1', { enable: true })).toEqual([build(HostEnabled, { host: 'h1' })]);
  });

  it('appends nothing when an enabled host is enabled again', () => {
    const given = foldAll(hostReducer, [registered, build(HostEnabled, { host: 'h1' })]);
    expect(decideHostAdmin(given, 'h1', { enable: true })).toEqual([]);
  });

  it('appends nothing when a disabled host is disabled again for the same reason', () => {
    const given = foldAll(hostReducer, [registered, build(HostDisabled, { host: 'h1', reason: 'rack 4' })]);
    expect(decideHostAdmin(given, 'h1', { enable: false, reason: 'rack 4' })).toEqual([]);
  });

  it('treats no reason and an empty reason as the same reason', () => {
    const given = foldAll(hostReducer, [registered, build(HostDisabled, { host: 'h1' })]);
    expect(decideHostAdmin(given, 'h1', { enable: false, reason: '' })).toEqual([]);
    expect(decideHostAdmin(given, 'h1', { enable: false })).toEqual([]);
  });

  it('records a new reason when a disabled host is disabled for another one', () => {
    const given = foldAll(hostReducer, [registered, build(HostDisabled, { host: 'h1', reason: 'rack 4' })]);
    expect(decideHostAdmin(given, 'h1', { enable: false, reason: 'rack 5' })).toEqual([
      build(HostDisabled, { host: 'h1', reason: 'rack 5' }),
    ]);
  });
});
