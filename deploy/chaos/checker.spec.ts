import { randomUUID } from 'node:crypto';

import {
  BootRequested,
  ConsoleAuthorized,
  ConsoleRevoked,
  ConsoleTokenIssued,
  DeleteRequested,
  DomainDeleted,
  DomainStarted,
  DomainStopped,
  HostSelected,
  InstanceFailed,
  ResourcesClaimed,
  ResourcesReleased,
  StopRequested,
  build,
} from '#libs/contracts';
import { envelope } from '#libs/domain/testing';

import {
  type ApiServer,
  type Facts,
  type FactEvent,
  type OperationRecord,
  check,
  everyAcknowledgedAppendIsStored,
  everyBootEndedActive,
  everyRequestReachedAFinalState,
  noServerHasTwoDomains,
  nothingOutlivesItsServer,
  readModelsEqualTheStore,
} from './checker.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const LATER = '2026-12-01T13:00:00.000Z';
const trace = { hostsIn: 1, filters: [], weighed: [{ host: 'h1', weight: 1 }] };

/** Events as the store hands them back: in a stream, numbered, each with a correlation id. */
function stream(name: string, events: readonly { event: object; requestId?: string }[]): FactEvent[] {
  return events.map(({ event, requestId }, revision) => {
    const { type, data, metadata } = envelope(event);
    if (requestId !== undefined) Object.assign(metadata, { correlationId: requestId });
    return { type, data, metadata, stream: name, revision };
  });
}

/** One server's facts: its events and the requests that caused them. */
class Server {
  readonly id = randomUUID();
  readonly name = `chaos-${this.id.slice(0, 4)}`;
  readonly events: { event: object; requestId?: string }[] = [];
  readonly operations: OperationRecord[] = [];

  booted(host = 'h1'): this {
    const requestId = this.request('boot', 'POST', '/servers', 202);
    this.events.push(
      {
        requestId,
        event: build(BootRequested, {
          instanceId: this.id,
          projectId: 'p-1',
          userId: 'u-1',
          name: this.name,
          flavor: { id: '0', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
          image: { id: randomUUID(), name: 'nimbus-boot', properties: {} },
          metadata: {},
          requestedNetworks: 'none',
        }),
      },
      { event: build(HostSelected, { instanceId: this.id, attempt: 1, host, alternates: [], trace }) },
      {
        event: build(DomainStarted, {
          instanceId: this.id,
          host,
          domainName: `nimbus-${this.id}`,
          reason: 'boot',
        }),
      },
    );
    return this;
  }

  stopped(host = 'h1'): this {
    const requestId = this.request('stop', 'POST', `/servers/${this.id}/action`, 202);
    this.events.push(
      { requestId, event: build(StopRequested, { instanceId: this.id }) },
      { event: build(DomainStopped, { instanceId: this.id, host, forced: false }) },
    );
    return this;
  }

  deleted(host = 'h1'): this {
    const requestId = this.request('delete', 'DELETE', `/servers/${this.id}`, 204);
    this.events.push(
      { requestId, event: build(DeleteRequested, { instanceId: this.id }) },
      { event: build(DomainDeleted, { instanceId: this.id, host }) },
    );
    return this;
  }

  withConsole(tokenHash: string): this {
    this.request('console', 'POST', `/servers/${this.id}/remote-consoles`, 200, tokenHash);
    this.events.push({
      event: build(ConsoleTokenIssued, {
        instanceId: this.id,
        tokenHash,
        consoleType: 'novnc',
        expiresAt: LATER,
      }),
    });
    return this;
  }

  then(event: object): this {
    this.events.push({ event });
    return this;
  }

  request(
    kind: OperationRecord['kind'],
    method: string,
    path: string,
    status: number,
    tokenHash?: string,
  ): string {
    const requestId = `req-${randomUUID()}`;
    this.operations.push({
      seq: 0,
      round: 1,
      atMs: 0,
      repliedAtMs: 0,
      kind,
      method,
      path,
      status,
      serverId: this.id,
      serverName: kind === 'boot' ? this.name : null,
      requestId,
      tokenHash: tokenHash ?? null,
      error: null,
    });
    return requestId;
  }

  stream(): FactEvent[] {
    return stream(`instance-${this.id}`, this.events);
  }
}

/** What the API shows for a server the store folds to ACTIVE (or `status`) on h1. */
const shown = (id: string, status = 'ACTIVE', host: string | null = 'h1'): ApiServer => ({
  id,
  status,
  host,
  taskState: null,
  vmState: { ACTIVE: 'active', SHUTOFF: 'stopped', ERROR: 'error' }[status] ?? null,
});

/**
 * A healthy world: each server's stream, its domain and claim on its host when it lives, the API
 * showing what the store folds to. Specs then break one thing.
 */
function world(servers: Server[], overrides: Partial<Facts> = {}): Facts {
  const live = servers.filter((server) => !server.events.some(({ event }) => event instanceof DomainDeleted));
  const claims = servers.flatMap((server) => {
    const claimed = build(ResourcesClaimed, {
      host: 'h1',
      instanceId: server.id,
      attempt: 1,
      vcpus: 1,
      ramMb: 64,
      diskGb: 0,
    });
    return live.includes(server)
      ? [{ event: claimed }]
      : [
          { event: claimed },
          { event: build(ResourcesReleased, { host: 'h1', instanceId: server.id, reason: 'deleted' }) },
        ];
  });
  const status = (server: Server) =>
    server.events.some(({ event }) => event instanceof DomainStopped) ? 'SHUTOFF' : 'ACTIVE';
  const operations = servers
    .flatMap((server) => server.operations)
    .map((operation, index) => ({ ...operation, seq: index + 1 }));
  return {
    operations,
    instances: new Map(servers.map((server) => [server.id, server.stream()])),
    hosts: new Map([['h1', stream('host-h1', claims)]]),
    consoles: new Map(),
    domains: live.map((server) => ({ host: 'h1', instanceId: server.id })),
    apiList: live.map((server) => shown(server.id, status(server))),
    apiShow: new Map(
      servers.map((server) => [server.id, live.includes(server) ? shown(server.id, status(server)) : null]),
    ),
    checkedAt: NOW,
    ...overrides,
  };
}

const invariantsOf = (facts: Facts): string[] => check(facts).map((violation) => violation.invariant);

describe(check.name, () => {
  it('finds nothing wrong in a world where every request ended as asked', () => {
    const running = new Server().booted();
    const stopped = new Server().booted().stopped();
    const gone = new Server().booted().deleted();
    expect(check(world([running, stopped, gone]))).toEqual([]);
  });
});

describe(everyRequestReachedAFinalState.name, () => {
  it('reports a server left with a task under way, naming its events', () => {
    const server = new Server().booted();
    server.then(build(StopRequested, { instanceId: server.id }));
    const facts = world([server], { apiList: [], apiShow: new Map() });

    const violations = everyRequestReachedAFinalState(facts);

    expect(violations).toHaveLength(1);
    expect(violations[0]?.message).toContain('powering-off');
    expect(violations[0]?.events.at(-1)).toEqual({
      stream: `instance-${server.id}`,
      type: 'StopRequested',
      revision: 3,
      detail: '',
    });
  });

  it('shows of a long stream its first four events and its newest eight', () => {
    const server = new Server().booted();
    server.then(build(DeleteRequested, { instanceId: server.id }));
    for (let i = 0; i < 16; i += 1) server.then(build(DeleteRequested, { instanceId: server.id }));

    const [violation] = everyRequestReachedAFinalState(world([server], { apiList: [], apiShow: new Map() }));

    expect(violation?.events.map((event) => event.revision)).toEqual([
      0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
  });

  it('accepts servers at rest, deleted ones included', () => {
    expect(
      everyRequestReachedAFinalState(world([new Server().booted(), new Server().booted().deleted()])),
    ).toEqual([]);
  });
});

describe(everyBootEndedActive.name, () => {
  it('reports an accepted boot that ended in ERROR, with its fault', () => {
    const server = new Server().booted();
    server.events.splice(1);
    server.then(
      build(InstanceFailed, {
        instanceId: server.id,
        fault: { code: 500, message: 'No valid host was found. Filter RetryFilter returned 0 hosts' },
      }),
    );

    const violations = everyBootEndedActive(world([server]));

    expect(violations.map((violation) => violation.message)).toEqual([
      `server ${server.id} ended ERROR: No valid host was found. Filter RetryFilter returned 0 hosts; expected ACTIVE`,
    ]);
  });

  it('reports a server SHUTOFF that nobody asked to stop', () => {
    const server = new Server().booted();
    server.then(build(DomainStopped, { instanceId: server.id, host: 'h1', forced: true }));
    expect(everyBootEndedActive(world([server]))).toHaveLength(1);
  });

  it('expects SHUTOFF after an accepted stop, and either state after a stop that got no reply', () => {
    const stopped = new Server().booted().stopped();
    const unsure = new Server().booted();
    unsure.request('stop', 'POST', `/servers/${unsure.id}/action`, 0);
    expect(everyBootEndedActive(world([stopped, unsure]))).toEqual([]);
  });

  it('judges a boot that got no reply by its server name, once it reached the store', () => {
    const server = new Server().booted();
    server.events.splice(1);
    server.then(build(InstanceFailed, { instanceId: server.id, fault: { code: 500, message: 'boom' } }));
    const facts = world([server]);
    const unanswered = facts.operations.map((operation) => ({ ...operation, status: 0, serverId: null }));
    expect(everyBootEndedActive({ ...facts, operations: unanswered })).toHaveLength(1);
  });

  it('does not judge deleted servers or refused boots', () => {
    const deleted = new Server().booted().deleted();
    const refused = new Server();
    refused.request('boot', 'POST', '/servers', 403);
    expect(everyBootEndedActive(world([deleted, refused]))).toEqual([]);
  });
});

describe(noServerHasTwoDomains.name, () => {
  it('reports a server with a domain on two hosts', () => {
    const server = new Server().booted();
    const facts = world([server]);
    const doubled = { ...facts, domains: [...facts.domains, { host: 'h2', instanceId: server.id }] };
    expect(noServerHasTwoDomains(doubled).map((violation) => violation.message)).toEqual([
      `server ${server.id} has 2 domains, on h1, h2`,
    ]);
  });

  it('reports a server ACTIVE in the store whose host has no domain for it', () => {
    const server = new Server().booted();
    expect(
      noServerHasTwoDomains(world([server], { domains: [] })).map((violation) => violation.message),
    ).toEqual([`server ${server.id} is ACTIVE on h1, but has no domain there`]);
  });

  it('accepts one domain per server', () => {
    expect(noServerHasTwoDomains(world([new Server().booted(), new Server().booted()]))).toEqual([]);
  });
});

describe(nothingOutlivesItsServer.name, () => {
  it('reports the domain of a deleted server still on its host', () => {
    const server = new Server().booted().deleted();
    const facts = world([server], { domains: [{ host: 'h1', instanceId: server.id }] });
    expect(nothingOutlivesItsServer(facts).map((violation) => violation.message)).toEqual([
      `a domain of server ${server.id} is on h1, but the server is deleted`,
    ]);
  });

  it('reports a domain on a host the server is not on, and one the store does not know', () => {
    const server = new Server().booted();
    const stranger = randomUUID();
    const facts = world([server]);
    const strays = [
      ...facts.domains,
      { host: 'h2', instanceId: server.id },
      { host: 'h1', instanceId: stranger },
    ];
    expect(
      nothingOutlivesItsServer({ ...facts, domains: strays }).map((violation) => violation.message),
    ).toEqual([
      `a domain of server ${server.id} is on h2, but the server is on h1`,
      `a domain of server ${stranger} is on h1, but the server is unknown to the store`,
    ]);
  });

  it('reports a claim a deleted server still holds, naming the claim', () => {
    const server = new Server().booted().deleted();
    const facts = world([server]);
    const kept = stream('host-h1', [
      {
        event: build(ResourcesClaimed, {
          host: 'h1',
          instanceId: server.id,
          attempt: 1,
          vcpus: 1,
          ramMb: 64,
          diskGb: 0,
        }),
      },
    ]);
    const violations = nothingOutlivesItsServer({ ...facts, hosts: new Map([['h1', kept]]) });
    expect(violations.map((violation) => violation.message)).toEqual([
      `host h1 holds a claim for server ${server.id}, but the server is deleted`,
    ]);
    expect(violations[0]?.events[0]).toEqual({
      stream: 'host-h1',
      type: 'ResourcesClaimed',
      revision: 0,
      detail: 'host h1, attempt 1',
    });
  });

  const authorised = (instanceId: string, tokenHash: string, revoked = false) =>
    stream(`console-${tokenHash}`, [
      {
        event: build(ConsoleAuthorized, {
          tokenHash,
          instanceId,
          projectId: 'p-1',
          host: 'h1',
          port: 5900,
          consoleType: 'novnc',
          expiresAt: LATER,
        }),
      },
      ...(revoked
        ? [{ event: build(ConsoleRevoked, { tokenHash, instanceId, reason: 'instance-deleted' }) }]
        : []),
    ]);
  const tokenHash = 'a'.repeat(64);

  it('reports a console token still valid after its server was deleted', () => {
    const server = new Server().booted().withConsole(tokenHash);
    server.deleted();
    const facts = world([server], {
      consoles: new Map([[`console-${tokenHash}`, authorised(server.id, tokenHash)]]),
    });
    expect(nothingOutlivesItsServer(facts).map((violation) => violation.message)).toEqual([
      `console token aaaaaaaa of server ${server.id} is still valid, but the server is deleted`,
    ]);
  });

  it('reports a console token still valid after its server stopped', () => {
    const server = new Server().booted().withConsole(tokenHash).stopped();
    const facts = world([server], {
      consoles: new Map([[`console-${tokenHash}`, authorised(server.id, tokenHash)]]),
    });
    expect(nothingOutlivesItsServer(facts)).toHaveLength(1);
  });

  it('accepts a revoked token, a live token of a running server, and one never handed out', () => {
    const revoked = new Server().booted().withConsole(tokenHash).deleted();
    const running = new Server().booted().withConsole('b'.repeat(64));
    const unissued = new Server().booted().deleted();
    const consoles = new Map([
      [`console-${tokenHash}`, authorised(revoked.id, tokenHash, true)],
      [`console-${'b'.repeat(64)}`, authorised(running.id, 'b'.repeat(64))],
      [`console-${'c'.repeat(64)}`, authorised(unissued.id, 'c'.repeat(64))],
    ]);
    expect(nothingOutlivesItsServer(world([revoked, running, unissued], { consoles }))).toEqual([]);
  });
});

describe(readModelsEqualTheStore.name, () => {
  it('reports a server the API shows in another state than the store folds to', () => {
    const server = new Server().booted().stopped();
    const facts = world([server]);
    const stale = { ...facts, apiShow: new Map([[server.id, shown(server.id, 'ACTIVE')]]) };
    expect(readModelsEqualTheStore(stale).map((violation) => violation.message)).toEqual([
      `the store folds server ${server.id} to SHUTOFF (vm_state stopped, task_state none, host h1), ` +
        'but the API shows ACTIVE (vm_state active, task_state none, host h1)',
    ]);
  });

  it('reports a deleted server the list still has, and a listed server the store does not hold', () => {
    const server = new Server().booted().deleted();
    const stranger = randomUUID();
    const facts = world([server], { apiList: [shown(server.id), shown(stranger)] });
    expect(readModelsEqualTheStore(facts).map((violation) => violation.message)).toEqual([
      `server ${server.id} is deleted in the store, but the API lists it ACTIVE`,
      `the API lists server ${stranger} (ACTIVE), which the store does not hold`,
    ]);
  });

  it('reports a live server missing from the list', () => {
    const server = new Server().booted();
    expect(readModelsEqualTheStore(world([server], { apiList: [] }))).toHaveLength(1);
  });
});

describe(everyAcknowledgedAppendIsStored.name, () => {
  it('reports an accepted stop whose StopRequested is not in the stream', () => {
    const server = new Server().booted().stopped();
    server.events.splice(3);
    const facts = world([server], { apiList: [], apiShow: new Map() });
    const stop = facts.operations.find((operation) => operation.kind === 'stop');
    expect(everyAcknowledgedAppendIsStored(facts).map((violation) => violation.message)).toEqual([
      `operation #2 (POST /servers/${server.id}/action) was answered 202, but instance-${server.id} holds no ` +
        `StopRequested from request ${stop?.requestId ?? ''}`,
    ]);
  });

  it('reports a console URL handed out whose token the server does not record', () => {
    const server = new Server().booted().withConsole(randomTokenHash());
    server.events.pop();
    expect(everyAcknowledgedAppendIsStored(world([server]))).toHaveLength(1);
  });

  it('does not hold refused or unanswered requests to it', () => {
    const server = new Server().booted();
    server.request('stop', 'POST', `/servers/${server.id}/action`, 409);
    server.request('reboot', 'POST', `/servers/${server.id}/action`, 0);
    expect(everyAcknowledgedAppendIsStored(world([server]))).toEqual([]);
  });
});

describe('the verdict', () => {
  it('names the broken invariant of each planted fault', () => {
    const server = new Server().booted();
    expect(invariantsOf(world([server], { domains: [] }))).toEqual(['one-domain']);
    const deleted = new Server().booted().deleted();
    expect(invariantsOf(world([deleted], { domains: [{ host: 'h1', instanceId: deleted.id }] }))).toEqual([
      'no-orphans',
    ]);
  });
});

function randomTokenHash(): string {
  return randomUUID().replaceAll('-', '').repeat(2);
}
