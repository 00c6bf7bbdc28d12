import {
  DeleteRequested,
  DomainDeleted,
  DomainRebooted,
  DomainStartFailed,
  DomainStarted,
  DomainStopped,
  DomainRebuilt,
  RebootRequested,
  RebuildRequested,
  DomainResized,
  ResizeClaimed,
  ResizeFailed,
  ResizeRequested,
  ResizeRevertRequested,
  ResizeReverted,
  SnapshotFailed,
  SnapshotRequested,
  SnapshotTaken,
  StartRequested,
  StopRequested,
  build,
} from '#libs/contracts';

import { computeWorkDue, decideComputeResult } from './compute-work.js';
import { ConflictingState } from './errors.js';
import { given, serverStory } from './testing/instances.js';

describe('compute work', () => {
  const server = serverStory();
  const { id } = server;
  const stopped = server.stopped;

  it('has no work for a server waiting for a host, at rest, or unknown', () => {
    expect(computeWorkDue(given(...server.requested))).toBeNull();
    expect(computeWorkDue(given(...server.running))).toBeNull();
    expect(computeWorkDue(given(...stopped))).toBeNull();
    expect(computeWorkDue(given())).toBeNull();
  });

  it('spawns a placed server on its host with what its boot asked for', () => {
    const work = computeWorkDue(given(...server.placed));
    expect(work).toMatchObject({ kind: 'spawn', host: 'h1', boot: { instanceId: id, name: 'web-1' } });
  });

  it('revokes consoles before each task that ends the VNC server, and names why', () => {
    const stopping = given(...server.running, build(StopRequested, { instanceId: id }));
    expect(computeWorkDue(stopping)).toEqual({ kind: 'power-off', host: 'h1', revoke: 'instance-stopped' });
    const rebooting = given(...server.running, build(RebootRequested, { instanceId: id, type: 'SOFT' }));
    expect(computeWorkDue(rebooting)).toEqual({
      kind: 'reboot',
      host: 'h1',
      type: 'SOFT',
      revoke: 'instance-rebooted',
    });
    const deleting = given(...server.running, build(DeleteRequested, { instanceId: id }));
    expect(computeWorkDue(deleting)).toEqual({ kind: 'destroy', host: 'h1', revoke: 'instance-deleted' });
  });

  it('powers on a stopped server asked to start, and hard-reboots when asked to', () => {
    expect(computeWorkDue(given(...stopped, build(StartRequested, { instanceId: id })))).toEqual({
      kind: 'power-on',
      host: 'h1',
    });
    const hard = given(...server.running, build(RebootRequested, { instanceId: id, type: 'HARD' }));
    expect(computeWorkDue(hard)).toMatchObject({ kind: 'reboot', type: 'HARD' });
  });

  it('rebuilds a running or stopped server on its host from the new image, keeping its power', () => {
    const image = { id: '0b5c4c3e-6f36-4a4e-9a3f-0d7b5f1f2a10', name: 'other', properties: {} };
    const running = given(...server.running, build(RebuildRequested, { instanceId: id, image }));
    expect(computeWorkDue(running)).toMatchObject({
      kind: 'rebuild',
      host: 'h1',
      image: { id: image.id },
      running: true,
      revoke: 'instance-rebooted',
      boot: { instanceId: id },
    });
    const off = given(...stopped, build(RebuildRequested, { instanceId: id, image }));
    expect(computeWorkDue(off)).toMatchObject({ kind: 'rebuild', running: false });
    const done = decideComputeResult(running, { kind: 'rebuilt', domainName: `nimbus-${id}` });
    expect(done).toEqual([build(DomainRebuilt, { instanceId: id, host: 'h1', domainName: `nimbus-${id}` })]);
    expect(() => decideComputeResult(running, { kind: 'rebooted', type: 'HARD' })).toThrow(ConflictingState);
    const [failed] = decideComputeResult(running, { kind: 'rebuild-failed', reason: 'disk full' });
    expect(failed).toMatchObject({ instanceId: id, fault: { code: 500, details: 'disk full' } });
    const errored = given(...server.running, build(RebuildRequested, { instanceId: id, image }), failed!);
    expect(errored).toMatchObject({ vmState: 'error', taskState: null });
    expect(errored.actions.at(-1)).toMatchObject({ action: 'rebuild', result: 'Error' });
  });

  it('resizes the domain once the scheduler made room, and gives the old size back on a revert', () => {
    const big = { id: '2', name: 'm1.big', vcpus: 2, ramMb: 128, diskGb: 0 };
    const asked = [...server.running, build(ResizeRequested, { instanceId: id, flavor: big })];
    expect(computeWorkDue(given(...asked))).toBeNull(); // the scheduler's turn first
    const claimed = [...asked, build(ResizeClaimed, { instanceId: id, host: 'h1' })];
    expect(computeWorkDue(given(...claimed))).toEqual({
      kind: 'resize',
      host: 'h1',
      vcpus: 2,
      memoryMib: 128,
      running: true,
      revert: false,
      revoke: 'instance-rebooted',
    });
    expect(decideComputeResult(given(...claimed), { kind: 'resized' })).toEqual([
      build(DomainResized, { instanceId: id, host: 'h1' }),
    ]);
    expect(decideComputeResult(given(...claimed), { kind: 'resize-failed', reason: 'virsh: no' })).toEqual([
      build(ResizeFailed, { instanceId: id, reason: 'virsh: no' }),
    ]);
    const reverting = [
      ...claimed,
      build(DomainResized, { instanceId: id, host: 'h1' }),
      build(ResizeRevertRequested, { instanceId: id }),
    ];
    expect(computeWorkDue(given(...reverting))).toMatchObject({ vcpus: 1, memoryMib: 64, revert: true });
    expect(decideComputeResult(given(...reverting), { kind: 'resized' })).toEqual([
      build(ResizeReverted, { instanceId: id, host: 'h1' }),
    ]);
    const [failed] = decideComputeResult(given(...reverting), { kind: 'resize-failed', reason: 'gone' });
    const errored = given(...reverting, failed!);
    expect(errored).toMatchObject({ vmState: 'error', resize: null, fault: { code: 500, details: 'gone' } });
    expect(errored.actions.at(-1)).toMatchObject({ action: 'revertResize', result: 'Error' });
  });

  it('snapshots the disk of a server at rest into the image the API made, and records either outcome', () => {
    const imageId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const asked = given(...server.running, build(SnapshotRequested, { instanceId: id, imageId }));
    expect(computeWorkDue(asked)).toEqual({ kind: 'snapshot', host: 'h1', imageId });
    expect(decideComputeResult(asked, { kind: 'snapshotted' })).toEqual([
      build(SnapshotTaken, { instanceId: id, imageId }),
    ]);
    expect(decideComputeResult(asked, { kind: 'snapshot-failed', reason: '' })).toEqual([
      build(SnapshotFailed, { instanceId: id, imageId, reason: 'unknown error' }),
    ]);
    const done = given(
      ...server.running,
      build(SnapshotRequested, { instanceId: id, imageId }),
      build(SnapshotTaken, { instanceId: id, imageId }),
    );
    expect(computeWorkDue(done)).toBeNull();
    expect(done.actions.at(-1)).toMatchObject({ action: 'createImage', result: 'Success' });
  });

  it('records a spawned domain as the boot having started', () => {
    expect(
      decideComputeResult(given(...server.placed), { kind: 'spawned', domainName: `nimbus-${id}` }),
    ).toEqual([
      build(DomainStarted, { instanceId: id, host: 'h1', domainName: `nimbus-${id}`, reason: 'boot' }),
    ]);
  });

  it('records a failed build for its attempt, with the reason cut to size and never empty', () => {
    const placed = given(...server.placed);
    expect(
      decideComputeResult(placed, { kind: 'spawn-failed', reason: 'x'.repeat(2000), retryable: false }),
    ).toEqual([
      build(DomainStartFailed, {
        instanceId: id,
        host: 'h1',
        attempt: 1,
        reason: 'x'.repeat(1000),
        retryable: false,
      }),
    ]);
    expect(decideComputeResult(placed, { kind: 'spawn-failed', reason: '', retryable: true })).toEqual([
      build(DomainStartFailed, {
        instanceId: id,
        host: 'h1',
        attempt: 1,
        reason: 'unknown error',
        retryable: true,
      }),
    ]);
  });

  it('records a stop, a start, a reboot and a delete as the host did them', () => {
    const stopping = given(...server.running, build(StopRequested, { instanceId: id }));
    expect(decideComputeResult(stopping, { kind: 'powered-off', forced: true })).toEqual([
      build(DomainStopped, { instanceId: id, host: 'h1', forced: true }),
    ]);
    const starting = given(...stopped, build(StartRequested, { instanceId: id }));
    expect(decideComputeResult(starting, { kind: 'powered-on', domainName: `nimbus-${id}` })).toEqual([
      build(DomainStarted, { instanceId: id, host: 'h1', domainName: `nimbus-${id}`, reason: 'start' }),
    ]);
    const rebooting = given(...server.running, build(RebootRequested, { instanceId: id, type: 'SOFT' }));
    expect(decideComputeResult(rebooting, { kind: 'rebooted', type: 'HARD' })).toEqual([
      build(DomainRebooted, { instanceId: id, host: 'h1', type: 'HARD' }),
    ]);
    const deleting = given(...server.placed, build(DeleteRequested, { instanceId: id }));
    expect(decideComputeResult(deleting, { kind: 'destroyed' })).toEqual([
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    ]);
  });

  it('refuses a result that answers no work due, such as a boot finishing after a delete', () => {
    const deleting = given(...server.placed, build(DeleteRequested, { instanceId: id }));
    expect(() => decideComputeResult(deleting, { kind: 'spawned', domainName: `nimbus-${id}` })).toThrow(
      ConflictingState,
    );
    expect(() => decideComputeResult(given(...server.running), { kind: 'destroyed' })).toThrow(
      "A 'destroyed' result does not answer the work due",
    );
  });
});
