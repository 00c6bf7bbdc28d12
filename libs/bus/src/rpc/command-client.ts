/**
 * Sending a command and awaiting its typed reply over Nest's NATS client: the command is encoded with its
 * contract, addressed by its subject (per host for compute commands), carries the caller in headers, is
 * bounded by a timeout, and its reply is decoded with the reply contract. Errors come back typed.
 * Must never log the command or the reply (a console reply carries a live token), and never retry by
 * itself: a timed-out command may still have run, and only the caller knows whether repeating is safe.
 */
import { ClientNats, type ClientProxy, NatsRecordBuilder } from '@nestjs/microservices';
// Not re-exported by the package root; a deep import fails loudly at load if it ever moves.
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception.js';
import { lastValueFrom, throwError, timeout } from 'rxjs';

import {
  type ContractClass,
  commandDefinitionOf,
  commandSubject,
  decodeReply,
  encodeCommand,
} from '#libs/contracts';

import { type BusConnectionOptions, connectionOptions } from '../connection/connect.js';
import { type CommandCaller, callerHeaders } from './command-caller.js';
import { CommandFailed, CommandTimeout, CommandTransportError, NoResponders } from './command-errors.js';
import { isRpcErrorPayload } from './rpc-errors.js';

/** What sendCommand needs of a Nest client: any ClientProxy, usually the ClientNats of createCommandClient. */
export type CommandSender = Pick<ClientProxy, 'send'>;

export interface SendCommandOptions<R extends object> {
  /** The reply class the command declares; checked against the contract, it types the result. */
  readonly reply: ContractClass<R>;
  /** The request the command belongs to and who made it; travels in headers. */
  readonly caller: CommandCaller;
  /** For compute commands: the host whose agent should answer (default: the command's `host`). */
  readonly host?: string;
  /** How long to wait for the reply (default 5000 ms). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** A Nest NATS client with Nimbus's connection settings, for `sendCommand`; close it on shutdown. */
export function createCommandClient(options: BusConnectionOptions): ClientNats {
  return new ClientNats(connectionOptions(options));
}

/**
 * `await sendCommand(client, build(AuthorizeConsole, {...}), { reply: ConsoleAccess, caller })`.
 * Throws CommandTimeout, NoResponders, CommandFailed (with the handler's code) or CommandTransportError;
 * a reply that breaks its contract throws the ContractViolation.
 */
export async function sendCommand<R extends object>(
  client: CommandSender,
  command: object,
  options: SendCommandOptions<R>,
): Promise<R> {
  const commandClass = (command as { constructor: ContractClass }).constructor;
  const definition = commandDefinitionOf(commandClass);
  if (definition.reply?.() !== options.reply) {
    throw new TypeError(`${definition.name} is not answered by ${options.reply.name}`);
  }
  const payload = encodeCommand(command);
  const subject =
    definition.target === 'compute'
      ? commandSubject(commandClass, hostFor(definition.name, payload, options.host))
      : commandSubject(commandClass);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const record = new NatsRecordBuilder(payload).setHeaders(callerHeaders(options.caller)).build();

  let raw: unknown;
  try {
    raw = await lastValueFrom(
      client.send<unknown>(subject, record).pipe(
        timeout({
          first: timeoutMs,
          with: () => throwError(() => new CommandTimeout(definition.name, subject, timeoutMs)),
        }),
      ),
    );
  } catch (error) {
    throw typedError(definition.name, subject, error);
  }
  return decodeReply(options.reply, raw);
}

function hostFor(command: string, payload: Record<string, unknown>, host: string | undefined): string {
  const own = payload['host'];
  if (host !== undefined && own !== undefined && host !== own) {
    throw new TypeError(`${command} is for host ${JSON.stringify(own)} but was addressed to ${host}`);
  }
  const chosen = host ?? own;
  if (typeof chosen !== 'string') throw new TypeError(`${command} needs a host to address`);
  return chosen;
}

function typedError(command: string, subject: string, error: unknown): Error {
  if (error instanceof CommandTimeout) return error;
  // The empty message NATS sends back when no subscription matches (the "no responders" status).
  if (error instanceof EmptyResponseException) return new NoResponders(command, subject);
  if (isRpcErrorPayload(error)) return new CommandFailed(command, subject, error.code, error.message);
  return new CommandTransportError(command, subject, error);
}
