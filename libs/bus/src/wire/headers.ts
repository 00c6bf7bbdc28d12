/**
 * The NATS header names Nimbus sets, in one place, so the relay, the consumers, the command client and the
 * command handlers read and write the same spelling.
 * Must never name a header that carries a secret: headers are visible to anything that can subscribe and
 * are printed by `nats` CLI tools, so only ids, names and types travel here.
 */

/** JetStream's own de-duplication header; the relay sets it to the event id. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

export const BUS_HEADERS = {
  /** The event type (`BootRequested`), so tools can filter without parsing the body. */
  eventType: 'Nimbus-Event-Type',
  /** The store stream the event sits in (`instance-<uuid>`). */
  stream: 'Nimbus-Stream',
  /** The request id (`x-openstack-request-id`) every effect of one request carries. */
  correlationId: 'Nimbus-Correlation-Id',
  /** Who asked: the actor's user id (or service name), project id (absent for none) and kind. */
  actorUserId: 'Nimbus-Actor-User-Id',
  actorProjectId: 'Nimbus-Actor-Project-Id',
  actorKind: 'Nimbus-Actor-Kind',
} as const;

/** W3C trace context, set when tracing is on: the consumer's span joins the publisher's trace. */
export const TRACEPARENT_HEADER = 'traceparent';
