import {
  BootRequested,
  ConsoleAuthorized,
  DeleteRequested,
  DomainDeleted,
  DomainRebooted,
  DomainStarted,
  HostRegistered,
  HostSelected,
  ResourcesClaimed,
  ResourcesReleased,
  build,
} from '#libs/contracts';
import type { StoredEvent } from '#libs/event-store';

import { INSTANCE_ID, bootData, claimData, selectedData, startedData } from '../testing/fixtures.js';
import { History } from '../testing/history.js';
import { StoreAudit } from './invariants.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const INSTANCE = `instance-${INSTANCE_ID}`;
const TOKEN_HASH = 'a'.repeat(64);

function audit(events: readonly StoredEvent[], extra: Parameters<StoreAudit['add']>[0][] = []) {
  const checks = new StoreAudit();
  for (const event of events) checks.add({ ok: true, event });
  for (const entry of extra) checks.add(entry);
  return checks.violations(NOW);
}

/** A server booted on h1: registered host, claim, selection, start, each caused by the one before. */
function bootedOnH1(history = new History()) {
  history.add(
    'host-h1',
    build(HostRegistered, {
      host: 'h1',
      availabilityZone: 'nova',
      hypervisorType: 'qemu',
      cpuArch: 'x86_64',
    }),
  );
  const boot = history.add(INSTANCE, build(BootRequested, bootData()));
  history.add('host-h1', build(ResourcesClaimed, claimData('h1')), boot);
  const selected = history.add(INSTANCE, build(HostSelected, selectedData('h1')), boot);
  history.add(INSTANCE, build(DomainStarted, startedData('h1')), selected);
  return { history, boot, selected };
}

function deleted(history: History, from: StoredEvent) {
  const request = history.add(INSTANCE, build(DeleteRequested, { instanceId: INSTANCE_ID }), from);
  history.add(INSTANCE, build(DomainDeleted, { instanceId: INSTANCE_ID, host: 'h1' }), request);
  return request;
}

const consoleOf = (expiresAt: string, tokenHash = TOKEN_HASH) =>
  build(ConsoleAuthorized, {
    tokenHash,
    instanceId: INSTANCE_ID,
    projectId: 'p-1',
    host: 'h1',
    port: 5900,
    consoleType: 'novnc',
    expiresAt,
  });

describe(StoreAudit.name, () => {
  it('finds nothing wrong with a server booted, claimed, deleted and released as the services do it', () => {
    const { history, selected } = bootedOnH1();
    const request = deleted(history, selected);
    history.add(
      'host-h1',
      build(ResourcesReleased, { host: 'h1', instanceId: INSTANCE_ID, reason: 'deleted' }),
      request,
    );

    expect(audit(history.events)).toEqual([]);
  });

  it('reports an event in a stream it does not belong in, which the fold would silently skip', () => {
    const { history, boot } = bootedOnH1();
    const other = '0b7c5b0e-6a3e-4c55-8a0c-1f6c7f2f9d21';
    history.add(INSTANCE, build(DomainStarted, startedData('h1', other)), boot);

    expect(audit(history.events)).toEqual([
      expect.objectContaining({
        invariant: 'folds',
        stream: INSTANCE,
        message: `DomainStarted belongs in instance-${other}, not in ${INSTANCE}`,
      }),
    ]);
  });

  it("reports a server's stream that does not begin with its boot", () => {
    const history = new History();
    history.add(INSTANCE, build(HostSelected, selectedData('h1')));

    expect(audit(history.events)).toEqual([
      expect.objectContaining({
        invariant: 'folds',
        stream: INSTANCE,
        message: "the stream begins with HostSelected, not with the server's BootRequested",
      }),
    ]);
  });

  it('reports an event that breaks its contract, naming its stream and revision', () => {
    const violations = audit(
      [],
      [
        {
          ok: false,
          stream: INSTANCE,
          revision: 3n,
          type: 'HostSelected',
          problem: 'host must be a host name',
        },
      ],
    );

    expect(violations).toEqual([
      expect.objectContaining({ invariant: 'contract', stream: INSTANCE, events: [`${INSTANCE}@3`] }),
    ]);
  });

  it('reports an event caused by one that is not in the store', () => {
    const { history, boot } = bootedOnH1();
    const orphan = history.events.find((event) => event.metadata.causationId === boot.metadata.eventId);

    const violations = audit(history.events.filter((event) => event !== boot));

    expect(violations.map((violation) => violation.invariant)).toContain('causation');
    expect(violations.find((violation) => violation.invariant === 'causation')?.message).toContain(
      orphan?.metadata.causationId ?? 'missing',
    );
  });

  it('reports a claim still held for a deleted server, with the claim and the deletion', () => {
    const { history, selected } = bootedOnH1();
    deleted(history, selected);

    const violations = audit(history.events);

    expect(violations).toEqual([
      expect.objectContaining({
        invariant: 'claimOwner',
        stream: 'host-h1',
        message: expect.stringContaining(`server ${INSTANCE_ID}, which is deleted`),
        events: ['host-h1@1', `${INSTANCE}@4`],
      }),
    ]);
  });

  it('reports a claim for a server the store has never heard of', () => {
    const history = new History();
    history.add('host-h1', build(ResourcesClaimed, claimData('h1')));

    expect(audit(history.events)).toEqual([
      expect.objectContaining({
        invariant: 'claimOwner',
        message: expect.stringContaining('which is unknown'),
      }),
    ]);
  });

  it('reports a claim on a host that a server at rest is not on', () => {
    const { history, boot } = bootedOnH1();
    history.add('host-h2', build(ResourcesClaimed, claimData('h2')), boot);

    expect(audit(history.events)).toEqual([
      expect.objectContaining({
        invariant: 'claimPlacement',
        stream: 'host-h2',
        message: expect.stringContaining('which is on h1'),
      }),
    ]);
  });

  it('reports a server that is ACTIVE although its domain never started', () => {
    const history = new History();
    const boot = history.add(INSTANCE, build(BootRequested, bootData()));
    const selected = history.add(INSTANCE, build(HostSelected, selectedData('h1')), boot);
    history.add(
      INSTANCE,
      build(DomainRebooted, { instanceId: INSTANCE_ID, host: 'h1', type: 'SOFT' }),
      selected,
    );

    expect(audit(history.events)).toEqual([
      expect.objectContaining({ invariant: 'activeStarted', stream: INSTANCE }),
    ]);
  });

  it('reports a console token still valid after its server was deleted, and not one that expired', () => {
    const { history, selected } = bootedOnH1();
    history.add(`console-${TOKEN_HASH}`, consoleOf('2026-11-22T12:10:00.000Z'), selected);
    history.add(`console-${'b'.repeat(64)}`, consoleOf('2026-11-22T11:59:00.000Z', 'b'.repeat(64)), selected);
    const request = deleted(history, selected);
    history.add(
      'host-h1',
      build(ResourcesReleased, { host: 'h1', instanceId: INSTANCE_ID, reason: 'deleted' }),
      request,
    );

    expect(audit(history.events)).toEqual([
      expect.objectContaining({ invariant: 'consoleOfDeleted', stream: `console-${TOKEN_HASH}` }),
    ]);
  });
});
