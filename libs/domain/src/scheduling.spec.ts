import {
  DeleteRequested,
  DomainDeleted,
  DomainStartFailed,
  HostSelected,
  DomainResized,
  InstanceFailed,
  ResizeClaimed,
  ResizeConfirmed,
  ResizeFailed,
  ResizeRequested,
  ResizeRevertRequested,
  ResizeReverted,
  build,
} from '#libs/contracts';

import {
  awaitsScheduler,
  decidePlacement,
  decideQuotaRecheck,
  isStrayClaim,
  mustRelease,
  schedulingWorkDue,
  serverGroupHosts,
} from './scheduling.js';
import { given, serverStory, trace } from './testing/instances.js';

const quota = { instances: 2, cores: 10, ramMb: 1024 };

describe('scheduling', () => {
  const server = serverStory({ quota });
  const { id } = server;
  const failedOn = (host: string, attempt: number) =>
    build(DomainStartFailed, { instanceId: id, host, attempt, reason: 'boom', retryable: true });
  const selectedOn = (host: string, attempt: number) =>
    build(HostSelected, { instanceId: id, attempt, host, alternates: [], trace });

  it('schedules a first attempt, rechecking quota, and releases claims of other attempts', () => {
    const work = schedulingWorkDue(given(...server.requested), [], 3);
    expect(work).toEqual({
      kind: 'schedule',
      attempt: 1,
      held: null,
      recheckQuota: true,
      release: { reason: 'rescheduled', keepHost: null, keepAttempt: 1 },
    });
    if (work.kind !== 'schedule') throw new Error(work.kind);
    expect(mustRelease(work.release, { host: 'h1', attempt: 1 })).toBe(false);
    expect(mustRelease(work.release, { host: 'h2', attempt: 0 })).toBe(true);
  });

  it('reuses the claim an attempt already made and then skips the quota recheck', () => {
    expect(schedulingWorkDue(given(...server.requested), [{ host: 'h2', attempt: 1 }], 3)).toMatchObject({
      kind: 'schedule',
      held: 'h2',
      recheckQuota: false,
    });
  });

  it('rechecks no quota on a reschedule, nor for a boot admitted without limits', () => {
    const rescheduled = given(...server.placed, failedOn('h1', 1));
    expect(schedulingWorkDue(rescheduled, [], 3)).toMatchObject({
      kind: 'schedule',
      attempt: 2,
      recheckQuota: false,
    });
    const unlimited = serverStory();
    expect(schedulingWorkDue(given(...unlimited.requested), [], 3)).toMatchObject({ recheckQuota: false });
  });

  it('gives up once every attempt failed, releasing what it holds', () => {
    const exhausted = given(...server.placed, failedOn('h1', 1), selectedOn('h2', 2), failedOn('h2', 2));
    const work = schedulingWorkDue(exhausted, [], 2);
    expect(work).toMatchObject({ kind: 'give-up', release: { reason: 'failed', keepHost: null } });
    if (work.kind !== 'give-up') throw new Error(work.kind);
    expect(work.events[0].fault.message).toBe(
      `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${id}.`,
    );
  });

  it('gives up at once, without a reschedule, after a build failure no other host can help', () => {
    const aborted = given(
      ...server.placed,
      build(DomainStartFailed, {
        instanceId: id,
        host: 'h1',
        attempt: 1,
        reason: 'image gone',
        retryable: false,
      }),
    );
    const work = schedulingWorkDue(aborted, [], 3);
    expect(work).toMatchObject({ kind: 'give-up', release: { reason: 'failed', keepHost: null } });
    if (work.kind !== 'give-up') throw new Error(work.kind);
    expect(work.events[0].fault).toEqual({
      code: 500,
      message: `Build of instance ${id} aborted: image gone`,
    });
  });

  it('finishes the delete of a server that never got a host', () => {
    const deleting = given(...server.requested, build(DeleteRequested, { instanceId: id }));
    expect(schedulingWorkDue(deleting, [{ host: 'h1', attempt: 1 }], 3)).toEqual({
      kind: 'finish-delete',
      release: { reason: 'deleted', keepHost: null, keepAttempt: null },
      events: [build(DomainDeleted, { instanceId: id, host: null })],
    });
  });

  it('only releases strays for a placed server, and keeps its claim on its host at its flavor', () => {
    const spawning = schedulingWorkDue(given(...server.placed), [], 3);
    expect(spawning).toEqual({
      kind: 'release',
      release: { reason: 'rescheduled', keepHost: 'h1', keepAttempt: null },
    });
    const work = schedulingWorkDue(given(...server.running), [], 3);
    expect(work).toEqual({
      kind: 'fit-claim',
      release: { reason: 'rescheduled', keepHost: 'h1', keepAttempt: null },
      host: 'h1',
      wanted: { vcpus: 1, ramMb: 64, diskGb: 0 },
      resize: null,
    });
    if (work.kind !== 'fit-claim') throw new Error(work.kind);
    expect(mustRelease(work.release, { host: 'h1', attempt: 1 })).toBe(false);
    expect(mustRelease(work.release, { host: 'h2', attempt: 1 })).toBe(true);
  });

  it('holds the larger flavor on the host from a resize until the user keeps one, then that one', () => {
    const small = { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 };
    const wide = { id: '7', name: 'wide', vcpus: 4, ramMb: 32, diskGb: 0 };
    const larger = { vcpus: 4, ramMb: 64, diskGb: 0 };
    const asked = [...server.running, build(ResizeRequested, { instanceId: id, flavor: wide })];
    const prep = schedulingWorkDue(given(...asked), [], 3);
    expect(prep).toMatchObject({ kind: 'fit-claim', host: 'h1', wanted: larger });
    expect(awaitsScheduler(given(...asked))).toBe(true);
    if (prep.kind !== 'fit-claim' || prep.resize === null) throw new Error('a resize claim is due');
    expect(prep.resize.claimed.map((event) => event.constructor.name)).toEqual(['ResizeClaimed']);
    expect(prep.resize.refused('no room')[0]).toMatchObject({ instanceId: id, reason: 'no room' });

    const resized = [
      ...asked,
      build(ResizeClaimed, { instanceId: id, host: 'h1' }),
      build(DomainResized, { instanceId: id, host: 'h1' }),
    ];
    expect(schedulingWorkDue(given(...resized), [], 3)).toMatchObject({ wanted: larger, resize: null });
    const confirmed = given(...resized, build(ResizeConfirmed, { instanceId: id }));
    expect(schedulingWorkDue(confirmed, [], 3)).toMatchObject({ wanted: { vcpus: 4, ramMb: 32, diskGb: 0 } });
    const reverted = given(
      ...resized,
      build(ResizeRevertRequested, { instanceId: id }),
      build(ResizeReverted, { instanceId: id, host: 'h1' }),
    );
    expect(schedulingWorkDue(reverted, [], 3)).toMatchObject({
      wanted: { vcpus: small.vcpus, ramMb: small.ramMb, diskGb: 0 },
    });
    const failed = given(...asked, build(ResizeFailed, { instanceId: id, reason: 'no room' }));
    expect(schedulingWorkDue(failed, [], 3)).toMatchObject({ wanted: { vcpus: 1, ramMb: 64, diskGb: 0 } });
    expect(awaitsScheduler(failed)).toBe(false);
  });

  it('releases everything a failed or deleted server holds', () => {
    const fault = { code: 500, message: 'No valid host was found. ' };
    const failed = given(...server.requested, build(InstanceFailed, { instanceId: id, fault }));
    expect(schedulingWorkDue(failed, [], 3)).toMatchObject({
      kind: 'release',
      release: { reason: 'failed' },
    });
    const deleted = given(
      ...server.running,
      build(DeleteRequested, { instanceId: id }),
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    );
    expect(schedulingWorkDue(deleted, [], 3)).toMatchObject({
      kind: 'release',
      release: { reason: 'deleted' },
    });
  });

  it('passes a boot that fits the quota it was admitted under and fails one that does not with a 403', () => {
    const state = given(...server.requested);
    expect(decideQuotaRecheck(state, { instances: 1, cores: 1, ramMb: 64 })).toEqual([]);
    expect(decideQuotaRecheck(state, { instances: 2, cores: 2, ramMb: 128 })).toEqual([
      build(InstanceFailed, {
        instanceId: id,
        fault: {
          code: 403,
          message: 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances',
        },
      }),
    ]);
  });

  it('selects the claimed host with the rest of the ranking as alternates', () => {
    const outcome = { kind: 'claimed', host: 'h2', ranked: ['h1', 'h2', 'h3'], trace } as const;
    expect(decidePlacement(given(...server.requested), 1, outcome)).toEqual([
      build(HostSelected, { instanceId: id, attempt: 1, host: 'h2', alternates: ['h1', 'h3'], trace }),
    ]);
  });

  it('fails a boot no host passes, naming why, in a fault cut to 255 characters', () => {
    const reason = `RamFilter returned 0 hosts${'.'.repeat(300)}`;
    const [failed] = decidePlacement(given(...server.requested), 1, { kind: 'no-valid-host', reason, trace });
    expect(failed).toBeInstanceOf(InstanceFailed);
    expect((failed as InstanceFailed).fault.message).toHaveLength(255);
    expect((failed as InstanceFailed).fault.message).toMatch(
      /^No valid host was found\. RamFilter returned 0 hosts/,
    );
    expect((failed as InstanceFailed).trace).toEqual(trace);
  });

  it("finds the hosts of the group's other live members only", () => {
    const group = { id: '00000000-0000-4000-8000-000000000001', name: 'g', policy: 'anti-affinity' } as const;
    const member = serverStory({ serverGroup: group });
    const other = serverStory({ serverGroup: group });
    const stranger = serverStory();
    const waiting = serverStory({ serverGroup: group });
    const hosts = serverGroupHosts(given(...member.requested), [
      given(...member.requested),
      given(...other.running),
      given(...stranger.running),
      given(...waiting.requested),
    ]);
    expect(hosts).toEqual(['h1']);
    expect(serverGroupHosts(given(...stranger.requested), [given(...other.running)])).toEqual([]);
  });
  it('awaits the scheduler while a build waits for a host or a never-placed server is being deleted', () => {
    expect(awaitsScheduler(given(...server.requested))).toBe(true);
    expect(awaitsScheduler(given(...server.placed, failedOn('h1', 1)))).toBe(true);
    expect(awaitsScheduler(given(...server.requested, build(DeleteRequested, { instanceId: id })))).toBe(
      true,
    );
    expect(awaitsScheduler(given(...server.placed))).toBe(false);
    expect(awaitsScheduler(given(...server.placed, build(DeleteRequested, { instanceId: id })))).toBe(false);
  });

  it('calls a claim stray when its holder is unknown, failed, deleted or placed on another host', () => {
    const fault = { code: 500, message: 'No valid host was found. ' };
    expect(isStrayClaim(undefined, 'h1')).toBe(true);
    expect(
      isStrayClaim(given(...server.requested, build(InstanceFailed, { instanceId: id, fault })), 'h1'),
    ).toBe(true);
    expect(isStrayClaim(given(...server.running), 'h2')).toBe(true);
    expect(isStrayClaim(given(...server.running), 'h1')).toBe(false);
    expect(isStrayClaim(given(...server.requested), 'h1')).toBe(false);
  });
});
