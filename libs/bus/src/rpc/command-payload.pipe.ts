/**
 * Validates a command handler's payload against its contract before the handler runs: the JSON becomes an
 * instance of the command class, or the requester gets `{ code: 'BadRequest', message }` naming each
 * property's problem. Applied by @CommandHandler, or by hand as `@Payload(new CommandPayloadPipe(Cmd))`.
 * Must never hand the handler an unvalidated payload, and never echo the payload's values in the error
 * (ContractViolation names paths and rules only).
 */
import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
// Not re-exported by the package root; a deep import fails loudly at load if it ever moves.
import { RpcParamtype } from '@nestjs/microservices/enums/rpc-paramtype.enum.js';

import { type ContractClass, decodeCommand } from '#libs/contracts';

import { badRequest } from './rpc-errors.js';

@Injectable()
export class CommandPayloadPipe<T extends object> implements PipeTransform<unknown, unknown> {
  constructor(private readonly commandClass: ContractClass<T>) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    // Method-level pipes see every parameter: only the whole payload is the command. Nest passes the RPC
    // parameter kind as a number although ArgumentMetadata types it as a string.
    const kind: unknown = metadata.type;
    if (kind !== RpcParamtype.PAYLOAD && kind !== 'body') return value;
    if (metadata.data !== undefined) {
      throw badRequest(`handlers of ${this.commandClass.name} take the whole command, not @Payload('field')`);
    }
    try {
      return decodeCommand(this.commandClass, value);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  }
}
