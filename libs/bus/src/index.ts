/**
 * The public API of libs/bus (imported as `#libs/bus`): the NATS connection and NIMBUS_EVENTS set-up, the
 * relay from the event store to JetStream, durable JetStream consumers as a Nest transport, and typed
 * request/reply over Nest's NATS transport, compute agents' heartbeats kept in a key-value bucket, and
 * leases in another, by which one agent drives each host and one relay is active.
 * Must never be the only reason something happens: events on the bus are edge triggers, and a reconciler
 * elsewhere re-drives from the store whatever the bus lost.
 */
export {
  type BusConnectionOptions,
  connectBus,
  connectionOptions,
  maskUrl,
  reconnectBackoff,
} from './connection/connect.js';
export {
  type EventsStreamConfig,
  type EventsStreamLimits,
  ensureEventsStream,
  eventsStreamConfig,
  streamDrift,
} from './connection/events-stream.js';
export {
  BusModule,
  type BusModuleOptions,
  InjectJetStream,
  InjectJetStreamManager,
  InjectNats,
  JETSTREAM,
  JETSTREAM_MANAGER,
  NATS_CONNECTION,
} from './connection/bus.module.js';

export {
  type BusPosition,
  type DecodedEventMessage,
  type EventMessageBody,
  EventMessageInvalid,
  type IncomingEventMessage,
  type OutgoingEventMessage,
  type WirePosition,
  encodeEventMessageBody,
  fromEventMessage,
  toEventMessage,
} from './wire/event-message.js';
export { BUS_HEADERS, MSG_ID_HEADER } from './wire/headers.js';

export { EventRelay, type EventRelayOptions, type EventRelayStats } from './relay/event-relay.js';

export type { BusEvent } from './consumers/bus-event.js';
export {
  type ConsumerSettings,
  DEFAULT_CONSUMER_SETTINGS,
  type ResolvedConsumerSettings,
  consumerConfigFor,
  durableNameFor,
  resolveSettings,
  retryDelayFor,
} from './consumers/consumer-config.js';
export { JetStreamContext } from './consumers/jetstream-context.js';
export {
  JetStreamTransport,
  type JetStreamTransportOptions,
  type JetStreamTransportStatus,
} from './consumers/jetstream-transport.js';
export { JETSTREAM_TRANSPORT, OnEvent } from './consumers/on-event.decorator.js';

export {
  Caller,
  type CommandCaller,
  type ValidatedCaller,
  callerFromHeaders,
  callerHeaders,
} from './rpc/command-caller.js';
export {
  type CommandSender,
  type SendCommandOptions,
  createCommandClient,
  sendCommand,
} from './rpc/command-client.js';
export {
  CommandError,
  CommandFailed,
  CommandTimeout,
  CommandTransportError,
  NoResponders,
} from './rpc/command-errors.js';
export { CommandHandler, HOST_WILDCARD, commandPattern } from './rpc/command-handler.decorator.js';
export { CommandPayloadPipe } from './rpc/command-payload.pipe.js';
export { CommandReplyInterceptor } from './rpc/command-reply.interceptor.js';
export { CommandServer, type CommandServerOptions } from './rpc/command-server.js';
export { RpcErrorFilter } from './rpc/rpc-error.filter.js';
export {
  RPC_ERROR_CODES,
  type RpcErrorPayload,
  badRequest,
  hasDomainCode,
  isRpcErrorPayload,
  toRpcErrorPayload,
} from './rpc/rpc-errors.js';

export { HeartbeatBoard } from './liveness/heartbeat-board.js';
export {
  type Lease,
  LeaseBoard,
  type LeaseBoardOptions,
  type LeaseHolder,
  type LeaseMember,
} from './leases/lease-board.js';
export { LeaseKeeper, type LeaseListener, type LeaseSharing } from './leases/lease-keeper.js';
export { shareOut } from './leases/share-out.js';
export { HostLiveness } from './liveness/host-liveness.js';

export {
  NIMBUS_ACCOUNT,
  type NatsAccounts,
  type UserGrant,
  createNatsAccounts,
  mintUserCreds,
  operatorModeConfig,
} from './auth/nats-accounts.js';
