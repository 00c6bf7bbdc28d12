/**
 * The compute side of remote consoles. Authorising a console asks libvirt for the domain's VNC
 * port, makes a random token (256 bits), records ConsoleAuthorized under the token's SHA-256 (never
 * the token) and a ConsoleTokenIssued reference on the instance, and only then hands the token to
 * the requester inside the access URL. Console output is the tail of the serial log.
 * Must never log a token or a URL that carries one.
 */
import { createHash, randomBytes } from 'node:crypto';

import {
  ConsoleAccess,
  ConsoleAuthorized,
  ConsoleOutput,
  ConsoleTokenIssued,
  build,
  streamFor,
} from '#libs/contracts';
import { ConflictingState, InstanceNotFound, type InstanceState, instanceReducer } from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

import { DomainNotRunning, type HypervisorDriver, domainNameOf } from '../hypervisor/index.js';

export interface ConsoleSettings {
  /** The console proxy as users reach it, e.g. `http://127.0.0.1:6080`. */
  readonly proxyBaseUrl: string;
  readonly tokenTtlMs: number;
}

export class ConsoleService {
  constructor(
    private readonly store: EventStore,
    private readonly driver: HypervisorDriver,
    private readonly settings: ConsoleSettings,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async authorize(instanceId: string, host: string, context: EventContext): Promise<ConsoleAccess> {
    const state = await this.placedOn(instanceId, host);
    mustBeRunningIdle(state, instanceId);
    let port: number;
    try {
      ({ port } = await this.driver.vncEndpoint(host, domainNameOf(instanceId)));
    } catch (error) {
      if (error instanceof DomainNotRunning)
        throw new ConflictingState(`Instance ${instanceId} is not running.`);
      throw error;
    }
    const token = randomBytes(32).toString('base64url');
    const tokenHash = createHash('sha256').update(token).digest('hex');
    const expiresAt = new Date(this.clock().getTime() + this.settings.tokenTtlMs).toISOString();
    const projectId = state.boot?.projectId;
    if (!projectId) throw new InstanceNotFound(instanceId);
    await this.store.append(
      streamFor('console', tokenHash),
      [
        build(ConsoleAuthorized, {
          tokenHash,
          instanceId,
          projectId,
          host,
          port,
          consoleType: 'novnc',
          expiresAt,
        }),
      ],
      'no_stream',
      context,
    );
    // Recorded only while nothing is being done to the server: the agent revokes the tokens it
    // folds before a stop or reboot, so one issued during that work must not slip past it. A
    // refusal here leaves the ConsoleAuthorized above unusable: nobody ever got its token.
    await this.store.execute(
      streamFor('instance', instanceId),
      instanceReducer,
      (current) => {
        mustBeRunningIdle(current, instanceId);
        return [build(ConsoleTokenIssued, { instanceId, tokenHash, consoleType: 'novnc', expiresAt })];
      },
      context,
    );
    const path = encodeURIComponent(`?token=${token}`);
    return build(ConsoleAccess, {
      consoleType: 'novnc',
      url: `${this.settings.proxyBaseUrl}/vnc_lite.html?path=${path}`,
      expiresAt,
    });
  }

  async output(instanceId: string, host: string, length: number | undefined): Promise<ConsoleOutput> {
    await this.placedOn(instanceId, host);
    const raw = await this.driver.consoleOutput(
      host,
      domainNameOf(instanceId),
      length === undefined ? {} : { length },
    );
    return build(ConsoleOutput, { output: raw.slice(-512 * 1024) });
  }

  /** The store, not the caller, says where an instance is. */
  private async placedOn(instanceId: string, host: string): Promise<InstanceState> {
    const { state } = await this.store.fold(streamFor('instance', instanceId), instanceReducer);
    if (!state.exists || state.vmState === 'deleted' || state.host !== host)
      throw new InstanceNotFound(instanceId);
    return state;
  }
}

/** A console is opened on an ACTIVE server that nothing is being done to (no stop, reboot, delete). */
function mustBeRunningIdle(state: InstanceState, instanceId: string): void {
  if (state.vmState !== 'active' || state.taskState !== null) {
    const now = state.taskState === null ? `vm_state ${state.vmState}` : `task_state ${state.taskState}`;
    throw new ConflictingState(`Instance ${instanceId} is in ${now}; its console cannot be opened now.`);
  }
}
