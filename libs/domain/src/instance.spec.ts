import { randomUUID } from 'node:crypto';

import {
  BootServer,
  ConsoleTokenIssued,
  DeleteRequested,
  DomainRebooted,
  DomainRebuilt,
  DomainResized,
  DomainDeleted,
  DomainStartFailed,
  DomainStarted,
  DomainStopped,
  HostSelected,
  InstanceFailed,
  NetworkInterfaceAttached,
  PowerStateChanged,
  RebootRequested,
  ResizeClaimed,
  ResizeConfirmed,
  ResizeFailed,
  ResizeReverted,
  ServerUpdated,
  StopRequested,
  type PowerState,
  build,
} from '#libs/contracts';

import { ConflictingState, InstanceNotFound } from './errors.js';
import {
  InstanceLocked,
  UnlockForbidden,
  decideAttachInterface,
  decideBoot,
  decideDelete,
  decideDetachInterface,
  decideLock,
  decideReboot,
  decideRebuild,
  ResizeRefused,
  decideConfirmResize,
  decideResize,
  decideRevertResize,
  decideSetAccessAddresses,
  decideSetMetadata,
  decideUnlock,
  mustBeUnlocked,
  decideStart,
  decideStop,
  decideUpdate,
  initialInstance,
  instanceReducer,
  isDomainDown,
  serverStatus,
} from './instance.js';
import { foldAll } from './testing/given.js';

const id = randomUUID();
const trace = { hostsIn: 1, filters: [], weighed: [{ host: 'h1', weight: 1 }] };
const boot = build(BootServer, {
  instanceId: id,
  projectId: 'p-1',
  userId: 'u-1',
  name: 'web-1',
  flavor: { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
  image: { id: randomUUID(), name: 'nimbus-boot', properties: {} },
  metadata: {},
  requestedNetworks: 'none',
});
const [booted] = decideBoot(initialInstance(), boot);
const selected = build(HostSelected, { instanceId: id, attempt: 1, host: 'h1', alternates: ['h2'], trace });
const started = build(DomainStarted, {
  instanceId: id,
  host: 'h1',
  domainName: `nimbus-${id}`,
  reason: 'boot',
});
const active = (): object[] => [booted!, selected, started];

describe('instance aggregate', () => {
  it('is BUILD once requested and ACTIVE once its domain started on the selected host', () => {
    expect(serverStatus(foldAll(instanceReducer, [booted!]))).toBe('BUILD');
    const state = foldAll(instanceReducer, active());
    expect(serverStatus(state)).toBe('ACTIVE');
    expect(state.host).toBe('h1');
    expect(state.powerState).toBe('running');
    expect(state.actions.map((action) => [action.action, action.result])).toEqual([['create', 'Success']]);
  });

  it('refuses a second boot of the same id instead of making a second server', () => {
    expect(() => decideBoot(foldAll(instanceReducer, [booted!]), boot)).toThrow(ConflictingState);
  });

  it('remembers the host a build failed on and goes back to scheduling', () => {
    const failed = build(DomainStartFailed, {
      instanceId: id,
      host: 'h1',
      attempt: 1,
      reason: 'boom',
      retryable: true,
    });
    const state = foldAll(instanceReducer, [booted!, selected, failed]);
    expect(state.failedHosts).toEqual(['h1']);
    expect(state.taskState).toBe('scheduling');
    expect(serverStatus(state)).toBe('BUILD');
  });

  it('shows ERROR with the fault when the build gives up', () => {
    const fault = { code: 500, message: 'No valid host was found. RamFilter returned 0 hosts' };
    const state = foldAll(instanceReducer, [booted!, build(InstanceFailed, { instanceId: id, fault })]);
    expect(serverStatus(state)).toBe('ERROR');
    expect(state.fault).toMatchObject(fault);
  });

  it('stops an active server and refuses to stop it twice, as Nova does', () => {
    const state = foldAll(instanceReducer, active());
    expect(decideStop(state, id)).toEqual([build(StopRequested, { instanceId: id })]);

    const stopping = foldAll(instanceReducer, [...active(), build(StopRequested, { instanceId: id })]);
    expect(() => decideStop(stopping, id)).toThrow(
      `Cannot 'stop' instance ${id} while it is in task_state powering-off`,
    );

    const stopped = foldAll(instanceReducer, [
      ...active(),
      build(StopRequested, { instanceId: id }),
      build(DomainStopped, { instanceId: id, host: 'h1', forced: true }),
    ]);
    expect(serverStatus(stopped)).toBe('SHUTOFF');
    expect(() => decideStop(stopped, id)).toThrow('while it is in vm_state stopped');
    expect(decideStart(stopped, id)).toHaveLength(1);
  });

  it('takes and gives back NICs only while at rest on a host, each an action of its own', () => {
    const nic = {
      instanceId: id,
      portId: randomUUID(),
      networkId: randomUUID(),
      macAddress: 'fa:16:3e:00:00:07',
      fixedIps: [{ subnetId: randomUUID(), ipAddress: '10.0.0.7' }],
      preserveOnDelete: false,
    };
    expect(() => decideAttachInterface(foldAll(instanceReducer, [booted!]), nic)).toThrow(
      `Cannot 'attach_interface' instance ${id} while it is in task_state scheduling`,
    );
    const [attached] = decideAttachInterface(foldAll(instanceReducer, active()), nic);
    expect(attached).toBeInstanceOf(NetworkInterfaceAttached);
    const withNic = foldAll(instanceReducer, [...active(), attached!]);
    expect(withNic.interfaces.map((entry) => entry.portId)).toEqual([nic.portId]);
    expect(decideAttachInterface(withNic, nic)).toEqual([]);
    expect(() => decideDetachInterface(withNic, id, randomUUID())).toThrow('is not attached');
    const stopping = foldAll(instanceReducer, [
      ...active(),
      attached!,
      build(StopRequested, { instanceId: id }),
    ]);
    expect(() => decideDetachInterface(stopping, id, nic.portId)).toThrow("Cannot 'detach_interface'");
    const [detached] = decideDetachInterface(withNic, id, nic.portId);
    const without = foldAll(instanceReducer, [...active(), attached!, detached!]);
    expect(without.interfaces).toEqual([]);
    expect(without.actions.map((action) => [action.action, action.result])).toEqual([
      ['create', 'Success'],
      ['attach_interface', 'Success'],
      ['detach_interface', 'Success'],
    ]);
  });

  it('takes its name from the boot request and keeps the description empty until one is set', () => {
    const state = foldAll(instanceReducer, [booted!]);
    expect(state.name).toBe('web-1');
    expect(state.description).toBeNull();
  });

  it('renames and describes a server, and clears a description set to null', () => {
    const described = foldAll(instanceReducer, [
      booted!,
      build(ServerUpdated, { instanceId: id, description: 'blue tier' }),
    ]);
    expect([described.name, described.description]).toEqual(['web-1', 'blue tier']);
    const renamed = foldAll(instanceReducer, [
      booted!,
      build(ServerUpdated, { instanceId: id, description: 'blue tier' }),
      build(ServerUpdated, { instanceId: id, name: 'web-2', description: null }),
    ]);
    expect([renamed.name, renamed.description]).toEqual(['web-2', null]);
  });

  it('decides an update only for what changes, and refuses one for a server that does not exist', () => {
    const state = foldAll(instanceReducer, active());
    expect(decideUpdate(state, id, { name: 'web-1', description: null })).toEqual([]);
    expect(decideUpdate(state, id, { name: 'web-9' })).toEqual([
      build(ServerUpdated, { instanceId: id, name: 'web-9' }),
    ]);
    expect(decideUpdate(state, id, { description: 'x' })).toEqual([
      build(ServerUpdated, { instanceId: id, description: 'x' }),
    ]);
    expect(() => decideUpdate(initialInstance(), id, { name: 'x' })).toThrow(InstanceNotFound);
  });

  it('refuses to update a deleted server', () => {
    const gone = foldAll(instanceReducer, [
      ...active(),
      build(DeleteRequested, { instanceId: id }),
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    ]);
    expect(() => decideUpdate(gone, id, { name: 'x' })).toThrow(InstanceNotFound);
  });

  it('shows REBOOT or HARD_REBOOT while a reboot is under way', () => {
    const soft = foldAll(instanceReducer, [
      ...active(),
      build(RebootRequested, { instanceId: id, type: 'SOFT' }),
    ]);
    expect(serverStatus(soft)).toBe('REBOOT');
    const hard = foldAll(instanceReducer, [
      ...active(),
      build(RebootRequested, { instanceId: id, type: 'HARD' }),
    ]);
    expect(serverStatus(hard)).toBe('HARD_REBOOT');
  });

  it('rebuilds a server at rest from a new image, showing REBUILD until the host is done', () => {
    const image = { id: '0b5c4c3e-6f36-4a4e-9a3f-0d7b5f1f2a10', name: 'other', properties: {} };
    const before = foldAll(instanceReducer, active());
    const asked = decideRebuild(before, id, image);
    const rebuilding = foldAll(instanceReducer, [...active(), ...asked]);
    expect(serverStatus(rebuilding)).toBe('REBUILD');
    expect(rebuilding.image?.id).toBe(image.id);
    expect(() => decideRebuild(rebuilding, id, image)).toThrow(ConflictingState);
    const rebuilt = foldAll(instanceReducer, [
      ...active(),
      ...asked,
      build(DomainRebuilt, { instanceId: id, host: 'h1', domainName: `nimbus-${id}` }),
    ]);
    expect(rebuilt).toMatchObject({ vmState: 'active', taskState: null, powerState: 'running' });
    expect(rebuilt.actions.at(-1)).toMatchObject({ action: 'rebuild', result: 'Success' });
    const deleting = foldAll(instanceReducer, [...active(), build(DeleteRequested, { instanceId: id })]);
    expect(() => decideRebuild(deleting, id, image)).toThrow(ConflictingState);
  });

  it('resizes a server at rest: RESIZE, then VERIFY_RESIZE with the new flavor, kept on confirm', () => {
    const small = { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 };
    const big = { id: '2', name: 'm1.big', vcpus: 2, ramMb: 128, diskGb: 0 };
    const asked = decideResize(foldAll(instanceReducer, active()), id, big);
    const resizing = foldAll(instanceReducer, [...active(), ...asked]);
    expect(serverStatus(resizing)).toBe('RESIZE');
    expect(resizing).toMatchObject({ flavor: small, resize: { from: small, to: big, wasRunning: true } });
    expect(() => decideResize(resizing, id, big)).toThrow(ConflictingState);
    expect(() => decideConfirmResize(resizing, id)).toThrow(ConflictingState);
    const resized = [
      ...active(),
      ...asked,
      build(ResizeClaimed, { instanceId: id, host: 'h1' }),
      build(DomainResized, { instanceId: id, host: 'h1' }),
    ];
    const waiting = foldAll(instanceReducer, resized);
    expect(serverStatus(waiting)).toBe('VERIFY_RESIZE');
    expect(waiting).toMatchObject({
      vmState: 'resized',
      taskState: null,
      flavor: big,
      powerState: 'running',
    });
    expect(() => decideStop(waiting, id)).toThrow(ConflictingState);
    const kept = foldAll(instanceReducer, [...resized, ...decideConfirmResize(waiting, id)]);
    expect(serverStatus(kept)).toBe('ACTIVE');
    expect(kept).toMatchObject({ flavor: big, resize: null });
    expect(kept.actions.map((entry) => [entry.action, entry.result])).toEqual([
      ['create', 'Success'],
      ['resize', 'Success'],
      ['confirmResize', 'Success'],
    ]);
  });

  it('reverts a resize to the old flavor, and a stopped server stays stopped through it', () => {
    const big = { id: '2', name: 'm1.big', vcpus: 2, ramMb: 128, diskGb: 0 };
    const off = [
      ...active(),
      build(StopRequested, { instanceId: id }),
      build(DomainStopped, { instanceId: id, host: 'h1', forced: false }),
    ];
    const asked = decideResize(foldAll(instanceReducer, off), id, big);
    const resized = [
      ...off,
      ...asked,
      build(ResizeClaimed, { instanceId: id, host: 'h1' }),
      build(DomainResized, { instanceId: id, host: 'h1' }),
    ];
    const waiting = foldAll(instanceReducer, resized);
    expect(waiting).toMatchObject({ vmState: 'resized', powerState: 'shutoff' });
    const reverting = [...resized, ...decideRevertResize(waiting, id)];
    expect(serverStatus(foldAll(instanceReducer, reverting))).toBe('REVERT_RESIZE');
    const back = foldAll(instanceReducer, [
      ...reverting,
      build(ResizeReverted, { instanceId: id, host: 'h1' }),
    ]);
    expect(serverStatus(back)).toBe('SHUTOFF');
    expect(back).toMatchObject({ flavor: { id: '1' }, resize: null, powerState: 'shutoff' });
    expect(back.actions.at(-1)).toMatchObject({ action: 'revertResize', result: 'Success' });
  });

  it('refuses a resize to the same flavor or a smaller disk; a failed one leaves the flavor as it was', () => {
    const state = foldAll(instanceReducer, active());
    const same = { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 };
    expect(() => decideResize(state, id, same)).toThrow('When resizing, instances must change flavor!');
    const sized = foldAll(instanceReducer, [
      ...active(),
      ...decideResize(state, id, { ...same, id: '3', diskGb: 10 }),
      build(ResizeClaimed, { instanceId: id, host: 'h1' }),
      build(DomainResized, { instanceId: id, host: 'h1' }),
      build(ResizeConfirmed, { instanceId: id }),
    ]);
    expect(() => decideResize(sized, id, { ...same, id: '4', diskGb: 5 })).toThrow(ResizeRefused);
    expect(() => decideResize(sized, id, { ...same, id: '5', diskGb: 0 })).toThrow(
      'Resize to zero disk flavor is not allowed.',
    );
    const failed = foldAll(instanceReducer, [
      ...active(),
      ...decideResize(state, id, { ...same, id: '2', vcpus: 2 }),
      build(ResizeFailed, { instanceId: id, reason: 'No valid host was found.' }),
    ]);
    expect(failed).toMatchObject({ vmState: 'active', taskState: null, flavor: same, resize: null });
    expect(failed.actions.at(-1)).toMatchObject({ action: 'resize', result: 'Error' });
  });

  it("refuses changes to a locked server but from an admin; an admin lock is an admin's to lift", () => {
    const state = foldAll(instanceReducer, active());
    const locked = foldAll(instanceReducer, [...active(), ...decideLock(state, id, false, 'why')]);
    expect(locked.lock).toEqual({ byAdmin: false, reason: 'why' });
    expect(decideLock(locked, id, true, null)).toEqual([]);
    expect(() => mustBeUnlocked(locked, id, false)).toThrow(InstanceLocked);
    expect(() => mustBeUnlocked(locked, id, true)).not.toThrow();
    expect(decideUnlock(locked, id, false)).toHaveLength(1);
    const byAdmin = foldAll(instanceReducer, [...active(), ...decideLock(state, id, true, null)]);
    expect(() => decideUnlock(byAdmin, id, false)).toThrow(UnlockForbidden);
    expect(decideUnlock(state, id, false)).toEqual([]);
  });

  it('keeps metadata and access addresses as their latest whole value, appending only changes', () => {
    const state = foldAll(instanceReducer, active());
    const changed = decideSetMetadata(state, id, { a: '1' });
    const next = foldAll(instanceReducer, [...active(), ...changed]);
    expect(next.metadata).toEqual({ a: '1' });
    expect(decideSetMetadata(next, id, { a: '1' })).toEqual([]);
    const addressed = decideSetAccessAddresses(next, id, { accessIPv4: '192.0.2.1' });
    const withAddress = foldAll(instanceReducer, [...active(), ...changed, ...addressed]);
    expect(withAddress).toMatchObject({ accessIPv4: '192.0.2.1', accessIPv6: null });
    expect(decideSetAccessAddresses(withAddress, id, { accessIPv4: '192.0.2.1' })).toEqual([]);
  });

  it('allows a hard reboot of a server that is off, but not a soft one', () => {
    const stopped = foldAll(instanceReducer, [
      ...active(),
      build(StopRequested, { instanceId: id }),
      build(DomainStopped, { instanceId: id, host: 'h1', forced: false }),
    ]);
    expect(decideReboot(stopped, id, 'HARD')).toHaveLength(1);
    expect(() => decideReboot(stopped, id, 'SOFT')).toThrow(ConflictingState);
  });

  it('treats a second delete as already under way and a deleted server as not found', () => {
    const deleting = foldAll(instanceReducer, [...active(), build(DeleteRequested, { instanceId: id })]);
    expect(decideDelete(deleting, id)).toEqual([]);
    const deleted = foldAll(instanceReducer, [
      ...active(),
      build(DeleteRequested, { instanceId: id }),
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    ]);
    expect(serverStatus(deleted)).toBe('DELETED');
    expect(() => decideStop(deleted, id)).toThrow(InstanceNotFound);
    expect(() => decideDelete(initialInstance(), id)).toThrow(InstanceNotFound);
  });

  it('keeps a delete under way whatever result of earlier work lands before the domain is deleted', () => {
    const asked = build(DeleteRequested, { instanceId: id });
    const results = [
      selected,
      started,
      build(DomainStartFailed, { instanceId: id, host: 'h1', attempt: 1, reason: 'boom', retryable: true }),
      build(InstanceFailed, { instanceId: id, fault: { code: 500, message: 'No valid host was found. ' } }),
      build(DomainStopped, { instanceId: id, host: 'h1', forced: false }),
      build(DomainRebooted, { instanceId: id, host: 'h1', type: 'SOFT' }),
    ];
    for (const result of results) {
      const state = foldAll(instanceReducer, [booted!, asked, result]);
      expect([result.constructor.name, state.taskState]).toEqual([result.constructor.name, 'deleting']);
    }
    const deleted = foldAll(instanceReducer, [
      ...active(),
      asked,
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    ]);
    expect([deleted.taskState, serverStatus(deleted)]).toEqual([null, 'DELETED']);
  });

  it('turns an active server whose domain stopped behind its back into SHUTOFF, and a vanished one into ERROR', () => {
    const shut = foldAll(instanceReducer, [
      ...active(),
      build(PowerStateChanged, {
        instanceId: id,
        host: 'h1',
        from: 'running',
        to: 'shutoff',
        source: 'sync',
      }),
    ]);
    expect(serverStatus(shut)).toBe('SHUTOFF');
    const gone = foldAll(instanceReducer, [
      ...active(),
      build(PowerStateChanged, {
        instanceId: id,
        host: 'h1',
        from: 'running',
        to: 'nostate',
        source: 'sync',
      }),
    ]);
    expect(serverStatus(gone)).toBe('ERROR');
    expect(gone.fault?.message).toContain('vanished from host h1');
  });

  it('forgets its console tokens when its domain goes down, and keeps them while it is only paused', () => {
    const issued = build(ConsoleTokenIssued, {
      instanceId: id,
      tokenHash: 'a'.repeat(64),
      consoleType: 'novnc',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    const syncedTo = (to: PowerState) =>
      foldAll(instanceReducer, [
        ...active(),
        issued,
        build(PowerStateChanged, { instanceId: id, host: 'h1', from: 'running', to, source: 'sync' }),
      ]).consoleTokens;
    for (const to of ['shutoff', 'shutdown', 'crashed', 'nostate'] as const) {
      expect([to, isDomainDown(to), syncedTo(to)]).toEqual([to, true, []]);
    }
    for (const to of ['paused', 'suspended'] as const) {
      expect([to, isDomainDown(to), syncedTo(to)]).toEqual([
        to,
        false,
        [{ tokenHash: 'a'.repeat(64), expiresAt: '2030-01-01T00:00:00.000Z' }],
      ]);
    }
    const rebooted = foldAll(instanceReducer, [
      ...active(),
      issued,
      build(RebootRequested, { instanceId: id, type: 'HARD' }),
      build(DomainRebooted, { instanceId: id, host: 'h1', type: 'HARD' }),
    ]);
    expect(rebooted.consoleTokens).toEqual([]);
  });

  it('folds the same events to the same state every time', () => {
    const events = active();
    const first = foldAll(instanceReducer, events);
    const second = foldAll(instanceReducer, events);
    expect({
      ...second,
      createdAt: first.createdAt,
      updatedAt: first.updatedAt,
      launchedAt: first.launchedAt,
      actions: first.actions,
    }).toEqual(first);
  });
});
