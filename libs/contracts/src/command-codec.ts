/**
 * Encoding and decoding command payloads and their replies for NATS request/reply: the sender encodes
 * (validated before it leaves), the handler decodes (validated before it acts), and back again for the reply.
 * Must never hand a handler a payload that failed its contract; the bus layer turns the ContractViolation
 * into an RpcException for the requester.
 */
import { conform, toValidJson } from './conformance.js';
import { classOf, commandAnsweredBy, commandDefinitionOf, commandDefinitionOfInstance } from './registry.js';
import type { ContractClass } from './validation.js';

/** The JSON payload of a command instance, validated against its class. */
export function encodeCommand(command: object): Record<string, unknown> {
  const { name, version, commandClass } = commandDefinitionOfInstance(command);
  return toValidJson(command, commandClass, { contract: name, version, context: 'encode' });
}

/** A received payload as an instance of the expected command class, or a ContractViolation. */
export function decodeCommand<T extends object>(commandClass: ContractClass<T>, payload: unknown): T {
  const { name, version } = commandDefinitionOf(commandClass);
  return conform(commandClass, payload, { contract: name, version, context: 'decode' });
}

/** The JSON payload of a reply, validated against the reply class its command declares. */
export function encodeReply(reply: object): Record<string, unknown> {
  const replyClass = classOf(reply) ?? Object;
  const { name, version } = commandAnsweredBy(replyClass);
  return toValidJson(reply, replyClass, {
    contract: replyClass.name,
    version,
    context: `encode reply to ${name}`,
  });
}

/** A received reply as an instance of the reply class, or a ContractViolation. */
export function decodeReply<T extends object>(replyClass: ContractClass<T>, payload: unknown): T {
  const { name, version } = commandAnsweredBy(replyClass);
  return conform(replyClass, payload, {
    contract: replyClass.name,
    version,
    context: `decode reply to ${name}`,
  });
}
