/**
 * What the API asks of other processes, as interfaces: the compute agent (console output and console
 * authorisation, over NATS request/reply in production) and host liveness (NATS heartbeats). The API
 * depends only on these; the wiring to libs/bus is another module's, and tests use the named fakes in
 * compute/testing/.
 */
import { DomainError } from '#libs/domain';

/** Who asks: the request id (the correlation id of whatever the agent records) and the actor. */
export interface RpcCaller {
  readonly correlationId: string;
  readonly actor: {
    readonly userId: string;
    readonly projectId: string | null;
    readonly kind: 'user' | 'service';
  };
}

/** Requests to the compute agent that owns `host`. Rejections are ComputeUnavailable or a domain error. */
export interface ComputeRpc {
  /** The tail of the instance's serial console log; `length` lines, or all when null. */
  consoleOutput(instanceId: string, host: string, length: number | null, caller: RpcCaller): Promise<string>;
  /** Authorises a console session and returns its access URL (which carries a secret token). */
  authorizeConsole(instanceId: string, host: string, type: 'novnc', caller: RpcCaller): Promise<string>;
}

/** Whether a compute host's agent is alive now (heartbeats; never a stored fact). */
export interface HostLiveness {
  isUp(host: string): boolean;
}

export const COMPUTE_RPC = Symbol('ComputeRpc');
export const HOST_LIVENESS = Symbol('HostLiveness');

/**
 * The agent did not answer (no responders, timeout, a failure of its own): a conflict, answered 409 as
 * Nova answers for an unready instance by the exception filter. The message is the client's; `detail`
 * (what the bus said) is for logs only.
 */
export class ComputeUnavailable extends DomainError {
  override readonly name = 'ComputeUnavailable';
  readonly code = 'Conflict' as const;
  constructor(
    readonly host: string,
    readonly detail: string,
  ) {
    super(`The compute service on host ${host} did not answer; try again later.`);
  }
}

/** Until the bus is wired: every call fails as if the agent were unreachable. */
export class UnwiredComputeRpc implements ComputeRpc {
  consoleOutput(_instanceId: string, host: string): Promise<string> {
    return Promise.reject(new ComputeUnavailable(host, 'the compute RPC is not wired to the bus'));
  }

  authorizeConsole(_instanceId: string, host: string): Promise<string> {
    return Promise.reject(new ComputeUnavailable(host, 'the compute RPC is not wired to the bus'));
  }
}

/** Until heartbeats are wired: no host is known to be up. */
export class UnwiredHostLiveness implements HostLiveness {
  isUp(): boolean {
    return false;
  }
}
