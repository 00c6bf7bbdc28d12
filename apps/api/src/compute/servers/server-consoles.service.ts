/**
 * A server's consoles, asked of the compute agent that runs it (through ComputeRpc): the serial console's
 * output and a noVNC session URL. Both need the domain running on a host (Nova's InstanceNotReady, 409);
 * an agent that does not answer is ComputeUnavailable, which the exception filter answers.
 * Must never log the URL it returns: it carries the console token.
 */
import { Inject, Injectable } from '@nestjs/common';

import { ApiError, badRequest } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { COMPUTE_RPC, type ComputeRpc, type RpcCaller } from '../ports.js';
import type { ServerRecord } from './server-record.js';
import { ServerReads } from './server-reads.js';

/** Control characters Nova strips from console output: all but tab and newline. */
const CONTROL = /[\x00-\x08\x0B-\x1F]/g;

@Injectable()
export class ServerConsoles {
  constructor(
    private readonly servers: ServerReads,
    @Inject(COMPUTE_RPC) private readonly rpc: ComputeRpc,
  ) {}

  /** The last `length` lines of the console log (all when null; none when 0). */
  async output(context: CallContext, serverId: string, length: number | null): Promise<string> {
    const record = await this.servers.load(context, serverId);
    const host = readyHost(record);
    if (length === 0) return '';
    const output = await this.rpc.consoleOutput(record.instance.id, host, length, callerOf(context));
    return output.replace(CONTROL, '');
  }

  /** A noVNC session's URL (the legacy action, whose console type is checked before the server). */
  async novnc(context: CallContext, serverId: string): Promise<string> {
    return this.authorize(context, await this.servers.load(context, serverId));
  }

  /** A remote console's URL (2.6+): the server first, then whether Nimbus has that console. */
  async remote(
    context: CallContext,
    serverId: string,
    request: { readonly protocol: string; readonly type: string },
  ): Promise<string> {
    const record = await this.servers.load(context, serverId);
    if (request.protocol !== 'vnc' || request.type !== 'novnc') {
      throw badRequest(`Unavailable console type ${request.type}.`);
    }
    return this.authorize(context, record);
  }

  /**
   * A console type Nimbus has no proxy for (SPICE, RDP, serial), refused as Nova refuses one that is
   * disabled: the server first (404, or 409 while it is not running on a host), then 400.
   */
  async unavailable(context: CallContext, serverId: string, type: string): Promise<never> {
    readyHost(await this.servers.load(context, serverId));
    throw badRequest(`Unavailable console type ${type}.`);
  }

  private authorize(context: CallContext, record: ServerRecord): Promise<string> {
    const host = readyHost(record);
    return this.rpc.authorizeConsole(record.instance.id, host, 'novnc', callerOf(context));
  }
}

/** Consoles need the domain running on a host (Nova's InstanceNotReady, 409, otherwise). */
function readyHost(record: ServerRecord): string {
  const { instance } = record;
  if (instance.host === null || instance.vmState !== 'active') {
    throw new ApiError(409, `Instance ${instance.id} is not ready`);
  }
  return instance.host;
}

/** The request's id and principal, for what the compute agent records on the caller's behalf. */
function callerOf(context: CallContext): RpcCaller {
  return {
    correlationId: context.requestId,
    actor: { userId: context.principal.userId, projectId: context.principal.projectId, kind: 'user' },
  };
}
