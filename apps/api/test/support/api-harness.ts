/**
 * Starts what an API test needs: a real embedded event store (a child process on a free port), the API
 * in-process on port 0 with the named fakes for the compute ports and a clock the test can move, and
 * helpers to call it over HTTP, make projects and users, and append the events the scheduler and compute
 * agent would append. `stop()` stops all of it and removes the data folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { EventStoreDBClient } from '@eventstore/db-client';

import { loadConfig } from '#libs/config';
import { type KeystoneRole, categoryPart, streamFor } from '#libs/contracts';
import { EventStore, type EventContext } from '#libs/event-store';

import { startEventStoreProcess } from '../../../../test/support/event-store-process.js';
import { startApi, type RunningApi } from '../../src/api-app.js';
import type { AuditStream } from '../../src/audit/nats/audit-stream.js';
import type { AuditNatsSigner } from '../../src/audit/nats/audit-subscriptions.js';
import { ApiConfig } from '../../src/config/api.config.js';
import { FakeComputeRpc, FakeHostLiveness } from '../../src/compute/testing/fake-compute-rpc.js';
import { IdentityService } from '../../src/identity/identity.service.js';
import { ReadModelHub } from '../../src/common/store/read-model-hub.js';
import { ServerProjection } from '../../src/compute/servers/projection/server-projection.js';

export const ADMIN_PASSWORD = 'admin-secret-for-tests';

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (no JSON encoding) when given. */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly microversion?: string;
}

export interface Member {
  readonly userId: string;
  readonly projectId: string;
  readonly name: string;
  readonly password: string;
  readonly token: string;
}

export interface Harness {
  /** Where the API listens now (a restart binds a new port). */
  readonly url: string;
  readonly api: RunningApi;
  readonly store: EventStore;
  readonly client: EventStoreDBClient;
  readonly rpc: FakeComputeRpc;
  readonly liveness: FakeHostLiveness;
  readonly dataDir: string;
  /** Moves the API's clock forward (token expiry without waiting). */
  advanceClock(ms: number): void;
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  login(user: string, password: string, project: string): Promise<string>;
  adminToken(): Promise<string>;
  /** A new project with one user holding `role` on it, logged in. */
  member(project: string, user: string, role?: KeystoneRole): Promise<Member>;
  /** Appends events to a stream as a service would (the scheduler, the compute agent). */
  appendAsService(stream: string, events: object[]): Promise<void>;
  /** The `$all` head: how many events the store holds, for "nothing was appended" checks. */
  headPosition(): Promise<bigint>;
  /** Stops the API and starts it again on the same store, data folder and signing key. */
  restartApi(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  /** The audit feed over NATS: its stream and the signing key subscriber credentials are minted with. */
  readonly audit?: { readonly stream: AuditStream; readonly signer: AuditNatsSigner };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const store = await startEventStoreProcess();
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-api-'));
  let offset = 0;
  const config = loadConfig(ApiConfig, {
    EVENTSTORE_URL: store.connectionString,
    NIMBUS_API_PORT: '0',
    NIMBUS_API_DATA_DIR: dataDir,
    NIMBUS_API_ADMIN_PASSWORD: ADMIN_PASSWORD,
    NIMBUS_API_TOKEN_SECRET: 'test-signing-key-0123456789abcdef0123456789',
    NIMBUS_API_SERVICE_PASSWORD: 'service-secret-for-tests',
    ...options.env,
  });
  const rpc = new FakeComputeRpc();
  const liveness = new FakeHostLiveness();
  const launch = (): Promise<RunningApi> =>
    startApi({
      config,
      computeRpc: rpc,
      hostLiveness: liveness,
      auditStream: options.audit?.stream ?? null,
      auditSigner: options.audit?.signer ?? null,
      clock: () => new Date(Date.now() + offset),
      logLevels: ['error'],
    });
  let api = await launch();
  const client = EventStoreDBClient.connectionString(store.connectionString);
  const eventStore = new EventStore(client);
  const identity = (): IdentityService => api.app.get(IdentityService);

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.token) headers['X-Auth-Token'] = opts.token;
    if (opts.microversion) headers['OpenStack-API-Version'] = `compute ${opts.microversion}`;
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  const login = async (user: string, password: string, project: string): Promise<string> => {
    const result = await request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: user, domain: { name: 'Default' }, password } },
          },
          scope: { project: { name: project, domain: { name: 'Default' } } },
        },
      },
    });
    const token = result.headers.get('x-subject-token');
    if (result.status !== 201 || !token)
      throw new Error(`login of ${user} failed: ${result.status} ${result.text}`);
    return token;
  };

  const serviceContext = (): EventContext => ({
    correlationId: `req-${randomUUID()}`,
    causationId: null,
    actor: { userId: 'nimbus-test', projectId: null, kind: 'service' },
  });

  return {
    get url() {
      return api.url;
    },
    get api() {
      return api;
    },
    store: eventStore,
    client,
    rpc,
    liveness,
    dataDir,
    advanceClock(ms) {
      offset += ms;
    },
    request,
    login,
    adminToken: () => login('admin', ADMIN_PASSWORD, 'admin'),
    async member(project, user, role = 'member') {
      const password = `pw-${randomUUID()}`;
      const context = serviceContext();
      const projectId = await identity().ensureProject(project, null, context);
      const userId = await identity().ensureUser(user, password, projectId, context);
      await identity().assignRole(userId, projectId, role, context);
      return { userId, projectId, name: user, password, token: await login(user, password, project) };
    },
    async appendAsService(stream, events) {
      const { position } = await eventStore.append(stream, events, 'any', serviceContext());
      // What another service appends reaches the API's read models through their subscriptions a moment
      // after the append is answered; the test goes on once they have folded it, as a client would see it.
      const hub = api.app.get(ReadModelHub);
      if (hub.follows(stream)) await hub.waitFor(position);
      if (categoryPart(stream) === 'instance') await api.app.get(ServerProjection).waitFor(position);
    },
    async headPosition() {
      let head = -1n;
      for await (const resolved of client.readAll({
        direction: 'backwards',
        fromPosition: 'end',
        maxCount: 1,
      })) {
        head = resolved.event?.position.commit ?? head;
      }
      return head;
    },
    async restartApi() {
      await api.close();
      api = await launch();
    },
    async stop() {
      await api.close();
      await client.dispose();
      await store.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The stream of an instance, for appending simulated scheduler and agent events. */
export const instanceStream = (id: string): string => streamFor('instance', id);
