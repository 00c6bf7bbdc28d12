/**
 * The one mapping from errors thrown while handling a command to the `{ code, message }` body that travels
 * back to the requester, and the check a requester applies to what comes back.
 * Domain errors opt in by carrying a PascalCase `code` (`class InstanceNotFound extends Error { readonly
 * code = 'InstanceNotFound' }`); their message is meant for the caller. Anything else is `Internal`.
 * Must never send an unexpected error's message or stack to the requester: it may name a path, a host
 * key or a token. Those are logged on the handler's side only.
 */
import { RpcException } from '@nestjs/microservices';

import { ConcurrencyConflict } from '#libs/event-store';

/** The error body of a failed command, as the requester receives it. */
export interface RpcErrorPayload {
  readonly code: string;
  readonly message: string;
}

/** The codes the bus itself produces; domain errors add their own. */
export const RPC_ERROR_CODES = {
  /** The payload or the caller headers broke the command's contract. */
  badRequest: 'BadRequest',
  /** A decision kept losing the race for a stream (ConcurrencyConflict): retrying may succeed. */
  conflict: 'Conflict',
  /** An RpcException without a code, e.g. a guard's refusal. */
  rejected: 'Rejected',
  /** Anything unexpected; details are in the handler's log. */
  internal: 'Internal',
} as const;

/** PascalCase with at least one lowercase letter, so Node's `ECONNREFUSED`-style codes do not pass. */
const DOMAIN_CODE = /^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/;
const MAX_MESSAGE = 1024;

export function isRpcErrorPayload(value: unknown): value is RpcErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return typeof code === 'string' && DOMAIN_CODE.test(code) && typeof message === 'string';
}

/** Whether an error is a domain error that names its own code. */
export function hasDomainCode(error: unknown): error is Error & { readonly code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = Reflect.get(error, 'code');
  return typeof code === 'string' && DOMAIN_CODE.test(code);
}

/** An RpcException with the BadRequest body; what the payload pipe throws for a contract violation. */
export function badRequest(message: string): RpcException {
  return new RpcException({ code: RPC_ERROR_CODES.badRequest, message: truncate(message) });
}

/** The body to send back for an error thrown while handling a command. */
export function toRpcErrorPayload(error: unknown): RpcErrorPayload {
  if (error instanceof RpcException) {
    const body = error.getError();
    if (isRpcErrorPayload(body)) return { code: body.code, message: truncate(body.message) };
    if (typeof body === 'string') return { code: RPC_ERROR_CODES.rejected, message: truncate(body) };
    return { code: RPC_ERROR_CODES.rejected, message: 'the request was rejected' };
  }
  if (hasDomainCode(error)) return { code: error.code, message: truncate(error.message) };
  if (error instanceof ConcurrencyConflict) {
    return { code: RPC_ERROR_CODES.conflict, message: truncate(error.message) };
  }
  return { code: RPC_ERROR_CODES.internal, message: 'internal error; see the handling service log' };
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}
