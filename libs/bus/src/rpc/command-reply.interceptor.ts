/**
 * Encodes a command handler's reply with its contract (`encodeReply`) before it leaves, so the requester
 * never receives a reply that breaks the declared reply class; a handler that returns plain data instead
 * of `build(ReplyClass, {...})` fails here, as Internal, on the handler's side.
 * Must never log the reply: a ConsoleAccess carries a live console token.
 */
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, map } from 'rxjs';

import { encodeReply } from '#libs/contracts';

@Injectable()
export class CommandReplyInterceptor implements NestInterceptor<unknown, Record<string, unknown>> {
  intercept(_context: ExecutionContext, next: CallHandler<unknown>): Observable<Record<string, unknown>> {
    return next.handle().pipe(
      map((reply) => {
        if (typeof reply !== 'object' || reply === null) {
          throw new TypeError('a command handler must return an instance of its reply class');
        }
        return encodeReply(reply);
      }),
    );
  }
}
