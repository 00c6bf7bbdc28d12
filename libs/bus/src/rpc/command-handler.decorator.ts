/**
 * `@CommandHandler(AuthorizeConsole)`: declares a method as the request/reply handler of one command on
 * Nest's NATS transport, with the command's subject derived from its contract, the payload validated into
 * the command class, the reply encoded with its contract, and errors mapped to `{ code, message }`.
 * Compute commands are addressed per host; their pattern holds a `*` host token that CommandServer
 * subscribes once per host the agent serves.
 * Must never be used for events (those go through @OnEvent and JetStream), and a compute command handler
 * must never run on a plain NATS server: it would answer for every host.
 */
import { UseFilters, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import { MessagePattern, Transport } from '@nestjs/microservices';

import {
  COMMAND_SUBJECT_PREFIX,
  type ContractClass,
  commandDefinitionOf,
  commandSubject,
} from '#libs/contracts';

import { CommandPayloadPipe } from './command-payload.pipe.js';
import { CommandReplyInterceptor } from './command-reply.interceptor.js';
import { RpcErrorFilter } from './rpc-error.filter.js';

/** The token that stands for "each host this agent serves" in a compute command pattern. */
export const HOST_WILDCARD = '*';

/**
 * The subject pattern a command's handler listens on: `nimbus.cmd.<target>.<Name>`, or
 * `nimbus.cmd.compute.*.<Name>` for compute commands (expanded per host by CommandServer).
 */
export function commandPattern(commandClass: ContractClass): string {
  const { name, target } = commandDefinitionOf(commandClass);
  return target === 'compute'
    ? `${COMMAND_SUBJECT_PREFIX}.compute.${HOST_WILDCARD}.${name}`
    : commandSubject(commandClass);
}

/** The pieces of a compute command pattern, or null for any other subject. */
export function parseComputePattern(pattern: string): { readonly name: string } | null {
  const prefix = `${COMMAND_SUBJECT_PREFIX}.compute.${HOST_WILDCARD}.`;
  if (!pattern.startsWith(prefix)) return null;
  const name = pattern.slice(prefix.length);
  return /^[A-Z][A-Za-z0-9]*$/.test(name) ? { name } : null;
}

export function CommandHandler(commandClass: ContractClass): MethodDecorator {
  if (commandDefinitionOf(commandClass).reply === undefined) {
    throw new Error(`${commandClass.name} declares no reply: it is decided in-process, not sent over NATS`);
  }
  return applyDecorators(
    MessagePattern(commandPattern(commandClass), Transport.NATS),
    UsePipes(new CommandPayloadPipe(commandClass)),
    UseInterceptors(new CommandReplyInterceptor()),
    UseFilters(new RpcErrorFilter()),
  );
}
