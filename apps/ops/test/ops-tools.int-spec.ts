/**
 * The operators' tools as a user runs them (the built binary) against a real embedded store: why a
 * server is in its state, what changed between two points, the store's invariants, moving streams
 * with export and import, and following the store live.
 */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';

import {
  BootRequested,
  ConsoleAuthorized,
  DeleteRequested,
  DomainDeleted,
  DomainRebooted,
  DomainStarted,
  HostRegistered,
  HostSelected,
  InstanceFailed,
  ResourcesClaimed,
  ResourcesReleased,
  build,
  streamFor,
} from '#libs/contracts';
import { type EventContext, EventStore } from '#libs/event-store';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { INVARIANTS, type Invariant } from '../src/checks/invariants.js';
import { claimData, selectedData } from '../src/testing/fixtures.js';
import { bootCommand, userContext } from '../../../test/support/instances.js';

const OPS = join(process.cwd(), 'dist/apps/ops/src/main.js');
type Actor = EventContext['actor'];
const scheduler: Actor = { userId: 'scheduler', projectId: null, kind: 'service' };
const compute: Actor = { userId: 'compute', projectId: null, kind: 'service' };

let source: EventStoreProcess;
let target: EventStoreProcess;
let workDir: string;
const started = randomUUID();
const failed = randomUUID();

const because = (context: EventContext, eventId: string | undefined, actor = scheduler): EventContext => ({
  correlationId: context.correlationId,
  causationId: eventId ?? null,
  actor,
});

/** A server's boot as the services write it: request, claim and selection, domain started. */
async function bootOnH1(store: EventStore, instanceId: string): Promise<void> {
  const stream = streamFor('instance', instanceId);
  const request = userContext('p-ops', 'u-ops');
  const command = bootCommand({ instanceId, name: 'ops-web', projectId: 'p-ops', userId: 'u-ops' });
  const {
    eventIds: [bootId],
  } = await store.append(stream, [build(BootRequested, command)], 'no_stream', request);
  const claim = { host: 'h1', instanceId, attempt: 1, vcpus: 1, ramMb: 64, diskGb: 1 };
  await store.append('host-h1', [build(ResourcesClaimed, claim)], 'any', because(request, bootId));
  const trace = { hostsIn: 1, filters: [], weighed: [{ host: 'h1', weight: 1 }] };
  const selection = build(HostSelected, { instanceId, attempt: 1, host: 'h1', alternates: [], trace });
  const {
    eventIds: [selectedId],
  } = await store.append(stream, [selection], 0n, because(request, bootId));
  const start = build(DomainStarted, {
    instanceId,
    host: 'h1',
    domainName: `nimbus-${instanceId}`,
    reason: 'boot',
  });
  await store.append(stream, [start], 1n, because(request, selectedId, compute));
}

/** Host h1 registered and the server `started` booted on it. */
async function registerH1AndBoot(store: EventStore): Promise<void> {
  const registration = {
    host: 'h1',
    availabilityZone: 'nova',
    hypervisorType: 'qemu',
    cpuArch: 'x86_64',
  } as const;
  await store.append('host-h1', [build(HostRegistered, registration)], 'no_stream', userContext());
  await bootOnH1(store, started);
}

async function failToPlace(store: EventStore, instanceId: string): Promise<void> {
  const stream = streamFor('instance', instanceId);
  const request = userContext('p-ops', 'u-ops');
  const command = bootCommand({ instanceId, name: 'ops-big', projectId: 'p-ops', userId: 'u-ops' });
  const {
    eventIds: [bootId],
  } = await store.append(stream, [build(BootRequested, command)], 'no_stream', request);
  const trace = {
    hostsIn: 1,
    filters: [
      { filter: 'ComputeFilter', remaining: 1, rejectedCount: 0, rejected: [] },
      { filter: 'RamFilter', remaining: 0, rejectedCount: 1, rejected: ['h1'] },
    ],
    weighed: [],
  };
  const fault = { code: 500, message: 'No valid host was found. Filter RamFilter returned 0 hosts' };
  await store.append(
    stream,
    [build(InstanceFailed, { instanceId, fault, trace })],
    0n,
    because(request, bootId),
  );
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nimbus-ops-'));
  [source, target] = await Promise.all([startEventStoreProcess(), startEventStoreProcess()]);
  const client = EventStoreDBClient.connectionString(source.connectionString);
  const store = new EventStore(client);
  await registerH1AndBoot(store);
  await failToPlace(store, failed);
  await client.dispose();
});

afterAll(async () => {
  await Promise.all([source.stop(), target.stop()]);
  rmSync(workDir, { recursive: true, force: true });
});

const ops = (store: EventStoreProcess, ...args: string[]) =>
  spawnSync(process.execPath, [OPS, ...args], {
    encoding: 'utf8',
    env: { ...process.env, EVENTSTORE_URL: store.connectionString },
    timeout: 20_000,
  });

describe('ops why', () => {
  it('shows a running server and each event under the one it reacted to, across its host stream', () => {
    const result = ops(source, 'why', started);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`server ${started} (ops-web): ACTIVE on h1, attempt 1`);
    const tree = result.stdout
      .split('\n')
      .filter((line) => /^[ │├└─]*[A-Z][a-zA-Z]+ (instance|host)-/.test(line))
      .map((line) => line.replace(/ (instance|host)-.*$/, ''));
    expect(tree).toEqual(['BootRequested', '├─ ResourcesClaimed', '└─ HostSelected', '   └─ DomainStarted']);
  });

  it('shows why a server failed to place: its fault and the filter that removed every host', () => {
    const result = ops(source, 'why', `instance-${failed}`);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('ERROR');
    expect(result.stdout).toContain('fault: 500 No valid host was found. Filter RamFilter returned 0 hosts');
    expect(result.stdout).toContain('RamFilter: 0 left, 1 removed (h1)');
  });

  it('gives the same tree as JSON for scripts', () => {
    const result = ops(source, 'why', started, '--json');
    const parsed = JSON.parse(result.stdout) as {
      server: { status: string };
      causes: { type: string; led: { type: string; led: { type: string }[] }[] }[];
    };

    expect(parsed.server.status).toBe('ACTIVE');
    expect(parsed.causes.map((cause) => cause.type)).toEqual(['BootRequested']);
    expect(parsed.causes[0]?.led.map((effect) => effect.type)).toEqual(['ResourcesClaimed', 'HostSelected']);
    expect(parsed.causes[0]?.led[1]?.led.map((effect) => effect.type)).toEqual(['DomainStarted']);
  });

  it('refuses what is not a server with exit status 2', () => {
    expect(ops(source, 'why', 'host-h1')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('is not a server'),
    });
  });
});

describe('ops diff', () => {
  it('names each field that changed between two revisions and the events that changed it', () => {
    const result = ops(source, 'diff', started, '0', '2', '--json');
    const parsed = JSON.parse(result.stdout) as {
      changes: { path: string; before: unknown; after: unknown }[];
      events: { type: string }[];
    };

    expect(result.status).toBe(0);
    expect(parsed.changes).toEqual(
      expect.arrayContaining([
        { path: 'vmState', before: 'building', after: 'active' },
        { path: 'taskState', before: 'scheduling', after: null },
        { path: 'host', before: null, after: 'h1' },
      ]),
    );
    expect(parsed.events.map((event) => event.type)).toEqual(['HostSelected', 'DomainStarted']);
  });

  it('refuses a point that is neither a revision nor a time', () => {
    expect(ops(source, 'diff', started, '0', 'yesterday')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('<to> must be a revision number or an ISO 8601 time'),
    });
  });
});

describe('ops export and import', () => {
  it('moves every stream to another store exactly, and a second import adds nothing', () => {
    const file = join(workDir, 'store.jsonl');
    expect(ops(source, 'export', '--out', file).status).toBe(0);
    const exported = readFileSync(file, 'utf8');

    const first = ops(target, 'import', file);
    const again = ops(target, 'import', file);
    const copy = ops(target, 'export');

    expect(first).toMatchObject({
      status: 0,
      stdout: 'imported 7 events into 3 streams; 0 were already there\n',
    });
    expect(again).toMatchObject({
      status: 0,
      stdout: 'imported 0 events into 3 streams; 7 were already there\n',
    });
    expect(copy.stdout).toBe(exported);
  });

  it('refuses a file with an event that breaks its contract and writes nothing', () => {
    const line = JSON.parse(
      ops(source, 'export', '--prefix', `instance-${failed}`).stdout.split('\n')[0] ?? '',
    ) as {
      stream: string;
      data: { name: string };
    };
    const bad = join(workDir, 'bad.jsonl');
    writeFileSync(
      bad,
      `${JSON.stringify({ ...line, stream: `instance-${failed.replace(/^./, 'f')}`, data: { ...line.data, name: '' } })}\n`,
    );
    const before = ops(target, 'export').stdout;

    expect(ops(target, 'import', bad)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('line 1:'),
    });
    expect(ops(target, 'export').stdout).toBe(before);
  });

  it('never overwrites a file it exports to', () => {
    const file = join(workDir, 'taken.jsonl');
    writeFileSync(file, 'keep me\n');

    expect(ops(source, 'export', '--out', file)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('never overwrites'),
    });
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
  });
});

describe('ops verify', () => {
  it('passes on a store the services wrote', () => {
    const result = ops(source, 'verify');

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^checked 7 events: every invariant holds/);
  });

  /** A store holding a host and a server booted on it, as the services write them; closed by the caller. */
  async function consistentStore(): Promise<{ store: EventStoreProcess; client: EventStoreDBClient }> {
    const store = await startEventStoreProcess();
    const client = EventStoreDBClient.connectionString(store.connectionString);
    await registerH1AndBoot(new EventStore(client));
    return { store, client };
  }

  /** Appends as stored, past the contracts (an old writer, a hand edit): what verify must catch. */
  async function appendRaw(
    client: EventStoreDBClient,
    stream: string,
    type: string,
    data: Record<string, string>,
  ): Promise<void> {
    const metadata = {
      eventId: randomUUID(),
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: scheduler,
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    };
    await client.appendToStream(stream, jsonEvent({ id: metadata.eventId, type, data, metadata }));
  }

  const ghost = randomUUID();
  /** A claim on `host` for `instanceId`, appended as the scheduler would, with the context given. */
  const claim =
    (host: string, instanceId: string, context: EventContext = userContext()) =>
    (client: EventStoreDBClient) =>
      new EventStore(client).append(
        `host-${host}`,
        [build(ResourcesClaimed, claimData(host, instanceId))],
        'any',
        context,
      );
  const injections: [Invariant, string, (client: EventStoreDBClient) => Promise<unknown>][] = [
    [
      'contract',
      `instance-${started}`,
      (client) => appendRaw(client, `instance-${started}`, 'DomainStopped', { instanceId: started }),
    ],
    [
      'folds',
      `instance-${started}`,
      (client) =>
        appendRaw(client, `instance-${started}`, 'DomainRebooted', {
          instanceId: ghost,
          host: 'h1',
          type: 'SOFT',
        }),
    ],
    ['causation', 'host-h1', claim('h1', started, because(userContext(), randomUUID()))],
    ['claimOwner', 'host-h1', claim('h1', ghost)],
    ['claimPlacement', 'host-h2', claim('h2', started)],
    [
      'activeStarted',
      `instance-${ghost}`,
      async (client) => {
        const store = new EventStore(client);
        const stream = streamFor('instance', ghost);
        const command = bootCommand({
          instanceId: ghost,
          name: 'ops-ghost',
          projectId: 'p-ops',
          userId: 'u-ops',
        });
        await store.append(stream, [build(BootRequested, command)], 'no_stream', userContext());
        await store.append(stream, [build(HostSelected, selectedData('h1', ghost))], 0n, userContext());
        await store.append(
          stream,
          [build(DomainRebooted, { instanceId: ghost, host: 'h1', type: 'SOFT' })],
          1n,
          userContext(),
        );
      },
    ],
    [
      'consoleOfDeleted',
      `console-${'c'.repeat(64)}`,
      async (client) => {
        const store = new EventStore(client);
        const console = {
          tokenHash: 'c'.repeat(64),
          instanceId: started,
          projectId: 'p-ops',
          host: 'h1',
          port: 5900,
          consoleType: 'novnc' as const,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        };
        await store.append(
          `console-${'c'.repeat(64)}`,
          [build(ConsoleAuthorized, console)],
          'no_stream',
          userContext(),
        );
        const stream = streamFor('instance', started);
        await store.append(stream, [build(DeleteRequested, { instanceId: started })], 'any', userContext());
        await store.append(
          stream,
          [build(DomainDeleted, { instanceId: started, host: 'h1' })],
          'any',
          userContext(),
        );
        const release = { host: 'h1', instanceId: started, reason: 'deleted' as const };
        await store.append('host-h1', [build(ResourcesReleased, release)], 'any', userContext());
      },
    ],
  ];

  it('covers every invariant with an injected case below', () => {
    expect(injections.map(([invariant]) => invariant).sort()).toEqual(Object.keys(INVARIANTS).sort());
  });

  it.each(injections)(
    'fails on one injected breach of %s, naming it and the stream %s, and no other',
    async (invariant, stream, inject) => {
      const { store, client } = await consistentStore();
      try {
        expect(ops(store, 'verify').status).toBe(0);
        await inject(client);

        const result = ops(store, 'verify', '--json');
        const report = JSON.parse(result.stdout) as {
          ok: boolean;
          invariants: Record<string, { holds: boolean; violations: { stream: string }[] }>;
        };
        expect(result.status).toBe(1);
        expect(report.ok).toBe(false);
        const broken = Object.entries(report.invariants).filter(([, verdict]) => !verdict.holds);
        expect(broken.map(([name]) => name)).toEqual([invariant]);
        expect(report.invariants[invariant]?.violations.map((violation) => violation.stream)).toEqual([
          stream,
        ]);
        const text = ops(store, 'verify');
        expect(text.status).toBe(1);
        expect(text.stdout).toContain(INVARIANTS[invariant]);
        expect(text.stdout).toContain(stream);
      } finally {
        await client.dispose();
        await store.stop();
      }
    },
    60_000,
  );
});

describe('ops tail', () => {
  it('prints the events appended after it started that match its filters, then stops at --limit', async () => {
    const tailing: ChildProcessByStdio<null, Readable, Readable> = spawn(
      process.execPath,
      [OPS, 'tail', '--prefix', 'instance-', '--limit', '2', '--json'],
      { env: { ...process.env, EVENTSTORE_URL: source.connectionString }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    tailing.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tailing.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      tailing.stderr.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('tailing after')) resolve();
      });
      tailing.on('exit', () => reject(new Error('ops tail exited before it was ready')));
    });

    const client = EventStoreDBClient.connectionString(source.connectionString);
    const live = randomUUID();
    await bootOnH1(new EventStore(client), live);
    await client.dispose();

    expect(await exited).toBe(0);
    const printed = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stream: string });
    expect(printed.map((event) => [event.type, event.stream])).toEqual([
      ['BootRequested', `instance-${live}`],
      ['HostSelected', `instance-${live}`],
    ]);
  });
});
