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

import { EventStoreDBClient } from '@eventstore/db-client';

import {
  BootRequested,
  DomainStarted,
  HostRegistered,
  HostSelected,
  InstanceFailed,
  ResourcesClaimed,
  build,
  streamFor,
} from '#libs/contracts';
import { type EventContext, EventStore } from '#libs/event-store';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
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
  const registration = {
    host: 'h1',
    availabilityZone: 'nova',
    hypervisorType: 'qemu',
    cpuArch: 'x86_64',
  } as const;
  await store.append('host-h1', [build(HostRegistered, registration)], 'no_stream', userContext());
  await bootOnH1(store, started);
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

  it('fails on a claim that no server holds, naming the invariant and the claim', async () => {
    const client = EventStoreDBClient.connectionString(target.connectionString);
    const ghost = randomUUID();
    const claim = { host: 'h1', instanceId: ghost, attempt: 1, vcpus: 1, ramMb: 64, diskGb: 1 };
    await new EventStore(client).append('host-h1', [build(ResourcesClaimed, claim)], 'any', userContext());
    await client.dispose();

    const result = ops(target, 'verify', '--json');
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      invariants: Record<string, { holds: boolean; violations: { message: string }[] }>;
    };

    expect(result.status).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.invariants.claimOwner?.violations.map((violation) => violation.message)).toEqual([
      `h1 holds a claim for server ${ghost}, which is unknown`,
    ]);
    expect(report.invariants.activeStarted?.holds).toBe(true);
  });
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
