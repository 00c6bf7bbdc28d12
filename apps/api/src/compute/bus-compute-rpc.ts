/**
 * ComputeRpc over NATS request/reply: the command goes to the one agent serving the instance's host
 * (its subject names the host), with the caller's request id and identity as headers, so what the
 * agent records carries them. An agent that is down or slow becomes ComputeUnavailable (409 at
 * the API); a domain error it reports becomes the matching domain error here.
 * Must never log the console URL it returns: it carries the token.
 */
import { CommandFailed, CommandTimeout, NoResponders, createCommandClient, sendCommand } from '#libs/bus';
import { AuthorizeConsole, ConsoleAccess, ConsoleOutput, GetConsoleOutput, build } from '#libs/contracts';
import { ConflictingState, InstanceNotFound } from '#libs/domain';

import { type ComputeRpc, ComputeUnavailable, type RpcCaller } from './ports.js';

type Client = ReturnType<typeof createCommandClient>;

const TIMEOUT_MS = 10_000;

export class BusComputeRpc implements ComputeRpc {
  private constructor(private readonly client: Client) {}

  static async connect(bus: { url: string; credsFile?: string | undefined }): Promise<BusComputeRpc> {
    const client = createCommandClient({ ...bus, name: 'api:commands' });
    await client.connect();
    return new BusComputeRpc(client);
  }

  async consoleOutput(
    instanceId: string,
    host: string,
    length: number | null,
    caller: RpcCaller,
  ): Promise<string> {
    const command = build(GetConsoleOutput, { instanceId, host, ...(length === null ? {} : { length }) });
    const reply = await this.send(
      () => sendCommand(this.client, command, { reply: ConsoleOutput, caller, host, timeoutMs: TIMEOUT_MS }),
      instanceId,
      host,
    );
    return reply.output;
  }

  async authorizeConsole(
    instanceId: string,
    host: string,
    type: 'novnc',
    caller: RpcCaller,
  ): Promise<string> {
    const command = build(AuthorizeConsole, { instanceId, host, consoleType: type });
    const reply = await this.send(
      () => sendCommand(this.client, command, { reply: ConsoleAccess, caller, host, timeoutMs: TIMEOUT_MS }),
      instanceId,
      host,
    );
    return reply.url;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async send<T>(request: () => Promise<T>, instanceId: string, host: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof NoResponders || error instanceof CommandTimeout)
        throw new ComputeUnavailable(host, error.message);
      if (error instanceof CommandFailed) {
        if (error.code === 'NotFound') throw new InstanceNotFound(instanceId);
        if (error.code === 'Conflict') throw new ConflictingState(error.remoteMessage);
        throw new ComputeUnavailable(host, `the compute agent failed: ${error.code}`);
      }
      throw error;
    }
  }
}
