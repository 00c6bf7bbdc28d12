/**
 * The one RPC exception filter for command handlers: every error becomes an RpcException-style
 * `{ code, message }` body for the requester (see rpc-errors.ts for the mapping), and the unexpected
 * ones are logged here with their stack.
 * Must never log the command payload or the reply (a console reply carries a live token), and never let
 * an unexpected error's message reach the requester.
 */
import { type ArgumentsHost, Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

import { RPC_ERROR_CODES, type RpcErrorPayload, toRpcErrorPayload } from './rpc-errors.js';

@Catch()
export class RpcErrorFilter implements RpcExceptionFilter {
  private readonly logger = new Logger(RpcErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const payload: RpcErrorPayload = toRpcErrorPayload(exception);
    if (payload.code === RPC_ERROR_CODES.internal) {
      const subject = subjectOf(host);
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(`command ${subject} failed unexpectedly: ${detail}`);
    }
    return throwError(() => payload);
  }
}

function subjectOf(host: ArgumentsHost): string {
  const context: unknown = host.switchToRpc().getContext();
  const getSubject: unknown =
    typeof context === 'object' && context !== null ? Reflect.get(context, 'getSubject') : undefined;
  return typeof getSubject === 'function' ? String((getSubject as () => unknown).call(context)) : '(unknown)';
}
