/**
 * `@OnEvent(BootRequested)`: declares a method as the handler of one event type, delivered through a
 * durable JetStream consumer by JetStreamTransport. The subject comes from the event class (never typed
 * by hand), and the handler is bound to this transport alone.
 * Must never be replaced by a bare `@EventPattern(subject)` in an app that also runs Nest's NATS
 * transport: that one would subscribe the subject as a plain core-NATS subscription too, and the handler
 * would run a second time with no ack, no validation and no redelivery.
 */
import { EventPattern } from '@nestjs/microservices';

import { type ContractClass, subjectFor } from '#libs/contracts';

import type { ConsumerSettings } from './consumer-config.js';

/** The transport id JetStreamTransport registers under; handlers bound to it go to no other transport. */
export const JETSTREAM_TRANSPORT = Symbol('nimbus:JetStreamTransport');

/** The key under which a handler's consumer settings travel in its pattern extras. */
export const CONSUMER_SETTINGS_EXTRA = 'nimbusConsumerSettings';

/**
 * Handles every event of `eventClass`: `async onBootRequested(@Payload() event: BusEvent<BootRequested>)`.
 * `settings` override the transport's consumer defaults for this handler's consumer.
 */
export function OnEvent(eventClass: ContractClass, settings: ConsumerSettings = {}): MethodDecorator {
  // Without the explicit <string>, TypeScript picks EventPattern's typed-events overload, whose decorator
  // type does not fit MethodDecorator.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-arguments
  return EventPattern<string>(subjectFor(eventClass), JETSTREAM_TRANSPORT, {
    [CONSUMER_SETTINGS_EXTRA]: settings,
  });
}
