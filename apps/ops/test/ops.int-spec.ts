/**
 * The operators' CLI as a user runs it (the built binary), against a stream a test wrote through
 * the domain: the history table, the state at a revision, and clear errors for bad input.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { EventStoreDBClient } from '@eventstore/db-client';

import { HostSelected, build, streamFor } from '#libs/contracts';
import { decideBoot, decideStop, instanceReducer } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { type EventStoreProcess, startEventStoreProcess } from '../../../test/support/event-store-process.js';
import { bootCommand, userContext } from '../../../test/support/instances.js';

const OPS = join(process.cwd(), 'dist/apps/ops/src/main.js');

let server: EventStoreProcess;
let stream: string;
const context = userContext('p-ops', 'u-ops');

beforeAll(async () => {
  server = await startEventStoreProcess();
  const client = EventStoreDBClient.connectionString(server.connectionString);
  const store = new EventStore(client);
  const command = bootCommand({ name: 'ops-demo' });
  stream = streamFor('instance', command.instanceId);
  await store.execute(stream, instanceReducer, (state) => decideBoot(state, command), context);
  const trace = { hostsIn: 1, filters: [], weighed: [{ host: 'h1', weight: 1 }] };
  await store.append(
    stream,
    [build(HostSelected, { instanceId: command.instanceId, attempt: 1, host: 'h1', alternates: [], trace })],
    0n,
    {
      ...context,
      actor: { userId: 'scheduler', projectId: null, kind: 'service' },
    },
  );
  await expect(
    store.execute(stream, instanceReducer, (state) => decideStop(state, command.instanceId), context),
  ).rejects.toThrow();
  await client.dispose();
});

afterAll(async () => {
  await server.stop();
});

const ops = (...args: string[]) =>
  spawnSync(process.execPath, [OPS, ...args], {
    encoding: 'utf8',
    env: { ...process.env, EVENTSTORE_URL: server.connectionString },
    timeout: 20_000,
  });

describe('ops CLI', () => {
  it('prints a stream history as a table with who caused each event and why', () => {
    const result = ops('history', stream);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${stream}: 2 events`);
    expect(result.stdout).toMatch(/BootRequested/);
    expect(result.stdout).toMatch(/HostSelected/);
    expect(result.stdout).toContain('user:u-ops@p-ops');
    expect(result.stdout).toContain('service:scheduler');
    expect(result.stdout).toContain(context.correlationId);
    // Not a terminal here: plain text that grep and files take as it is.
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('prints the state the stream folds to at a revision', () => {
    const atBoot = ops('state', stream, '--revision', '0');
    const latest = ops('state', stream);

    expect(atBoot.status).toBe(0);
    expect(atBoot.stdout).toContain('at revision 0');
    expect(JSON.parse(atBoot.stdout.slice(atBoot.stdout.indexOf('{')))).toMatchObject({
      host: null,
      taskState: 'scheduling',
    });
    expect(JSON.parse(latest.stdout.slice(latest.stdout.indexOf('{')))).toMatchObject({
      host: 'h1',
      taskState: 'spawning',
    });
  });

  it('says clearly what is wrong with bad input, with exit status 2', () => {
    expect(ops('state', stream, '--revision', 'ten')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--revision must be a number'),
    });
    expect(ops('frobnicate', stream)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unknown command frobnicate'),
    });
    expect(ops('state', 'not-a-stream')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('is neither a server id'),
    });
    expect(ops('state', 'project-p-ops')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('no aggregate folds'),
    });
    // An option the command does not take would otherwise be ignored: verify --prefix is no partial check.
    expect(ops('verify', '--prefix', 'instance-')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('verify takes no --prefix'),
    });
    expect(ops('history', stream, '--limit', '3', '--type', 'BootRequested')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('history takes no --limit, --type'),
    });
  });

  it('reports a stream that does not exist', () => {
    expect(ops('history', streamFor('instance', '00000000-0000-4000-8000-000000000000'))).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('not found'),
    });
  });
});
