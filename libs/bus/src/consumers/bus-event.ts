/**
 * What a JetStream event handler receives: the decoded, validated event with its place in the store, and
 * how this message reached the handler (its stream sequence and how many times it has been delivered).
 * Must never be trusted as "the first time": a message may come again after a crash, a failed ack or a
 * relay restart, so a handler decides from the store (or its own records) whether the work is done.
 */
import type { DecodedEventMessage } from '../wire/event-message.js';

export interface BusEvent<T extends object = object> extends DecodedEventMessage<T> {
  /** The NATS subject, `nimbus.evt.<category>.<Type>`. */
  readonly subject: string;
  /** The message's sequence in NIMBUS_EVENTS. */
  readonly streamSequence: number;
  /** 1 on the first delivery; more after a handler error, a missed ack or a redelivery after restart. */
  readonly deliveryCount: number;
  /** The durable consumer that delivered it. */
  readonly consumer: string;
}
