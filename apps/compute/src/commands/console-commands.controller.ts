/** Console requests from the API for instances on this agent's hosts, over NATS request/reply. */
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';

import { Caller, CommandHandler, type ValidatedCaller } from '#libs/bus';
import { AuthorizeConsole, type ConsoleAccess, type ConsoleOutput, GetConsoleOutput } from '#libs/contracts';

import { ConsoleService } from './console.service.js';

@Controller()
export class ConsoleCommandsController {
  constructor(private readonly consoles: ConsoleService) {}

  @CommandHandler(AuthorizeConsole)
  authorize(@Payload() command: AuthorizeConsole, @Caller() caller: ValidatedCaller): Promise<ConsoleAccess> {
    return this.consoles.authorize(command.instanceId, command.host, {
      correlationId: caller.correlationId,
      causationId: null,
      actor: caller.actor,
    });
  }

  @CommandHandler(GetConsoleOutput)
  output(@Payload() command: GetConsoleOutput): Promise<ConsoleOutput> {
    return this.consoles.output(command.instanceId, command.host, command.length);
  }
}
