/**
 * The RPC context of a JetStream event handler (`@Ctx() context: JetStreamContext`): the raw message, for
 * the rare handler that needs a header or to signal progress itself.
 * Must never be used to ack, nak or term: the transport does that from the handler's outcome, and a
 * second acknowledgement would be a protocol error at best and a lost redelivery at worst.
 */
import { BaseRpcContext } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';

export class JetStreamContext extends BaseRpcContext<[JsMsg, string]> {
  getMessage(): JsMsg {
    return this.args[0];
  }

  getSubject(): string {
    return this.args[0].subject;
  }

  /** The durable consumer's name. */
  getConsumer(): string {
    return this.args[1];
  }
}
