import { randomUUID } from 'node:crypto';

import {
  type Actor,
  BootRequested,
  ConsoleAuthorized,
  ConsoleRevoked,
  EVENT_CATALOG,
  type EventMetadata,
  HostSelected,
  InstanceFailed,
  KeypairCreated,
  UserCreated,
  UserPasswordChanged,
  build,
  eventDefinitions,
  eventTypeOf,
  streamFor,
} from '#libs/contracts';

import {
  AUDIT_VISIBILITY,
  ChainVerifier,
  GENESIS_HASH,
  GapDetector,
  auditData,
  auditEventJson,
  canonicalJson,
  chainRecord,
  comparePositions,
  formatPosition,
  parseFeedStart,
  parsePosition,
  projectClue,
  sequenceOf,
  toCloudEvent,
  verifyChain,
} from './index.js';

const PROJECT = 'a1b2c3';
const INSTANCE = '6f1c2f0e-1d3b-4a59-9c7e-2b1f0c9d8e7a';
const HASH = 'ab'.repeat(32);

function metadata(actor: Actor = { userId: 'u1', projectId: PROJECT, kind: 'user' }): EventMetadata {
  return {
    eventId: randomUUID(),
    correlationId: `req-${randomUUID()}`,
    causationId: null,
    actor,
    occurredAt: '2026-12-05T10:00:00.000Z',
    schemaVersion: 1,
  };
}

function stored(data: object, stream: string, actor?: Actor) {
  return { type: eventTypeOf(data), stream, revision: 3n, data, metadata: metadata(actor) };
}

const bootFields = {
  instanceId: INSTANCE,
  projectId: PROJECT,
  userId: 'u1',
  name: 'web',
  flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
  image: { id: '0b3c7c55-7d4b-4c85-8f3c-6f8ad7d5e9a1', name: 'cirros', properties: {} },
  metadata: {},
  requestedNetworks: 'none' as const,
};
const boot = build(BootRequested, bootFields);

describe('audit visibility', () => {
  it('decides for every registered event type', () => {
    const decided = Object.keys(AUDIT_VISIBILITY).sort();
    expect(decided).toEqual(
      eventDefinitions()
        .map((definition) => definition.type)
        .sort(),
    );
    expect(decided).toEqual(Object.keys(EVENT_CATALOG).sort());
  });

  it("never shows a server's user data, which may carry the guest's credentials, to admins either", () => {
    const withUserData = build(BootRequested, {
      ...bootFields,
      userData: Buffer.from('password: s3cret').toString('base64'),
    });
    for (const audience of ['admin', 'project'] as const) {
      const data = auditData('BootRequested', withUserData, audience);
      expect(data).not.toHaveProperty('userData');
      expect(data).toHaveProperty('name', 'web');
    }
  });

  it('never shows a password hash, to admins either', () => {
    const passwordHash = `scrypt$16384$8$1$${Buffer.from('salt').toString('base64')}$${Buffer.from('hash').toString('base64')}`;
    const created = build(UserCreated, {
      userId: 'u1',
      name: 'alice',
      domainId: 'default',
      passwordHash,
      defaultProjectId: PROJECT,
    });
    const changed = build(UserPasswordChanged, { userId: 'u1', passwordHash });
    for (const audience of ['admin', 'project'] as const) {
      for (const event of [created, changed]) {
        const data = auditData(eventTypeOf(event), event, audience);
        expect(JSON.stringify(data)).not.toContain('scrypt');
        expect(data).not.toHaveProperty('passwordHash');
        expect(data).toHaveProperty('userId', 'u1');
      }
    }
  });

  it('shows hosts, scheduling traces and fault details to admins only', () => {
    const selected = build(HostSelected, {
      instanceId: INSTANCE,
      attempt: 1,
      host: 'host-1',
      alternates: ['host-2'],
      trace: { hostsIn: 2, filters: [], weighed: [{ host: 'host-1', weight: 1 }] },
    });
    expect(auditData('HostSelected', selected, 'admin')).toMatchObject({ host: 'host-1' });
    expect(auditData('HostSelected', selected, 'project')).toEqual({ instanceId: INSTANCE, attempt: 1 });
    const failed = build(InstanceFailed, {
      instanceId: INSTANCE,
      fault: { code: 500, message: 'No valid host was found.', details: 'trace' },
    });
    expect(auditData('InstanceFailed', failed, 'project')).toEqual({
      instanceId: INSTANCE,
      fault: { code: 500, message: 'No valid host was found.' },
    });
    expect(auditData('InstanceFailed', failed, 'admin')).toMatchObject({ fault: { details: 'trace' } });
  });

  it('finds the project in the payload, the stream, the instance, the actor or nowhere', () => {
    expect(projectClue(stored(boot, streamFor('instance', INSTANCE)))).toEqual({ project: PROJECT });
    const selected = build(HostSelected, {
      instanceId: INSTANCE,
      attempt: 1,
      host: 'host-1',
      alternates: [],
      trace: { hostsIn: 1, filters: [], weighed: [] },
    });
    const service: Actor = { userId: 'scheduler', projectId: null, kind: 'service' };
    expect(projectClue(stored(selected, streamFor('instance', INSTANCE), service))).toEqual({
      ownerOf: streamFor('instance', INSTANCE),
    });
    const authorized = build(ConsoleAuthorized, {
      tokenHash: HASH,
      instanceId: INSTANCE,
      projectId: PROJECT,
      host: 'host-1',
      port: 5900,
      consoleType: 'novnc',
      expiresAt: '2026-12-05T11:00:00.000Z',
    });
    expect(projectClue(stored(authorized, streamFor('console', HASH), service))).toEqual({
      project: PROJECT,
    });
    const revoked = build(ConsoleRevoked, {
      tokenHash: HASH,
      instanceId: INSTANCE,
      reason: 'instance-deleted',
    });
    expect(projectClue(stored(revoked, streamFor('console', HASH), service))).toEqual({
      ownerOf: streamFor('instance', INSTANCE),
    });
    const keypair = build(KeypairCreated, {
      userId: 'u1',
      name: 'k',
      type: 'ssh',
      publicKey: 'ssh-ed25519 AAAA k',
      fingerprint: '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff',
    });
    expect(projectClue(stored(keypair, streamFor('keypair', 'u1')))).toEqual({ project: PROJECT });
    const user = build(UserPasswordChanged, { userId: 'u1', passwordHash: 'scrypt$1$1$1$c2FsdA==$aGFzaA==' });
    expect(projectClue(stored(user, streamFor('user', 'u1')))).toEqual({ project: null });
  });
});

describe(toCloudEvent.name, () => {
  it('maps the envelope to CloudEvents attributes and lowercase extensions', () => {
    const event = stored(boot, streamFor('instance', INSTANCE));
    const cloud = toCloudEvent(event, {
      position: { commit: 42n, prepare: 42n },
      previous: { commit: 40n, prepare: 40n },
      project: PROJECT,
      audience: 'project',
    });
    const json = auditEventJson(cloud);
    expect(json).toMatchObject({
      specversion: '1.0',
      id: event.metadata.eventId,
      source: '/nimbus/instance',
      type: 'org.nimbus.BootRequested.v4',
      subject: `instance-${INSTANCE}`,
      time: '2026-12-05T10:00:00.000Z',
      datacontenttype: 'application/json',
      nimbusproject: PROJECT,
      actoruser: 'u1',
      actorproject: PROJECT,
      actorkind: 'user',
      correlationid: event.metadata.correlationId,
      position: '42',
      previousposition: '40',
      sequence: '00000000000000000042',
      streamrevision: '3',
    });
    expect(json).not.toHaveProperty('causationid');
    for (const key of Object.keys(json)) {
      expect(key).toMatch(/^[a-z0-9]{1,20}$|^data$/);
    }
  });
});

describe('positions', () => {
  it('reads and writes commit and prepare positions', () => {
    expect(parsePosition('17')).toEqual({ commit: 17n, prepare: 17n });
    expect(parsePosition('17:12')).toEqual({ commit: 17n, prepare: 12n });
    expect(formatPosition({ commit: 17n, prepare: 12n })).toBe('17:12');
    expect(parsePosition('12:17')).toBeNull();
    expect(parsePosition('-1')).toBeNull();
    expect(comparePositions({ commit: 2n, prepare: 2n }, { commit: 10n, prepare: 10n })).toBeLessThan(0);
    expect(sequenceOf({ commit: 2n, prepare: 2n }) < sequenceOf({ commit: 10n, prepare: 10n })).toBe(true);
  });

  it('starts a feed at the beginning, after a position or at a time, and refuses anything else', () => {
    expect(parseFeedStart(undefined)).toEqual({ kind: 'beginning' });
    expect(parseFeedStart('beginning')).toEqual({ kind: 'beginning' });
    expect(parseFeedStart('99')).toEqual({ kind: 'after', position: { commit: 99n, prepare: 99n } });
    expect(parseFeedStart('2026-12-05T10:00:00Z')).toEqual({
      kind: 'time',
      time: new Date('2026-12-05T10:00:00Z'),
    });
    expect(parseFeedStart('yesterday')).toBeNull();
    expect(parseFeedStart('2026-13-45T10:00:00Z')).toBeNull();
  });
});

describe(GapDetector.name, () => {
  const at = (commit: number) => ({ commit: BigInt(commit), prepare: BigInt(commit) });

  it('accepts a chain of links, drops a duplicate and names a gap', () => {
    const detector = new GapDetector(null);
    expect(detector.arrive(at(3), null)).toEqual({ kind: 'next' });
    expect(detector.arrive(at(7), at(3))).toEqual({ kind: 'next' });
    expect(detector.arrive(at(7), at(3))).toEqual({ kind: 'duplicate' });
    expect(detector.arrive(at(5), at(3))).toEqual({ kind: 'duplicate' });
    expect(detector.arrive(at(12), at(9))).toEqual({ kind: 'gap', after: '7', claimed: '9' });
    expect(detector.lastPosition()).toEqual(at(12));
  });

  it('resumes after the last kept position, and takes the first arrival of a feed started at a time', () => {
    expect(new GapDetector(at(7)).arrive(at(9), at(7))).toEqual({ kind: 'next' });
    expect(new GapDetector(at(7)).arrive(at(9), null)).toEqual({ kind: 'gap', after: '7', claimed: null });
    expect(new GapDetector('unknown').arrive(at(9), at(4))).toEqual({ kind: 'next' });
  });
});

describe('hash chain', () => {
  const events = [1, 2, 3].map((n) => ({ specversion: '1.0', id: `e${n}`, data: { n, z: 1, a: [n] } }));

  function chain(): string[] {
    let previous = GENESIS_HASH;
    return events.map((event) => {
      const record = chainRecord(event, previous);
      previous = record.hash as string;
      return JSON.stringify(record);
    });
  }

  it('writes canonical JSON whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });

  it('verifies a whole log, its last newline included', () => {
    const lines = [...chain(), ''];
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 3 });
  });

  it('names the first record that was changed, removed, reordered or is not JSON', () => {
    const lines = chain();
    const changed = [...lines];
    changed[1] = changed[1]!.replace('"n":2', '"n":5');
    expect(verifyChain(changed)).toMatchObject({
      ok: false,
      line: 2,
      reason: expect.stringContaining('changed'),
    });
    expect(verifyChain([lines[0]!, lines[2]!])).toMatchObject({ ok: false, line: 2 });
    expect(verifyChain([lines[1]!, lines[0]!])).toMatchObject({ ok: false, line: 1 });
    expect(verifyChain([lines[0]!, '{oops', lines[2]!])).toMatchObject({
      ok: false,
      line: 2,
      reason: 'not JSON',
    });
    expect(verifyChain([lines[0]!, '', lines[1]!])).toMatchObject({ ok: false, line: 2 });
  });

  it('continues a chain across appends: a record made later links to the last hash', () => {
    const lines = chain();
    const verifier = new ChainVerifier();
    for (const line of lines) expect(verifier.push(line)).toBeUndefined();
    const last = verifier.end();
    expect(last.ok).toBe(true);
    const next = JSON.stringify(chainRecord({ id: 'e4' }, last.ok ? last.lastHash : ''));
    expect(verifyChain([...lines, next])).toMatchObject({ ok: true, records: 4 });
  });
});
