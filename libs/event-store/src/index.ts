export { MemoryCheckpointStore, StreamCheckpointStore, type CheckpointStore } from './checkpoints.js';
export { DecodedEvents, decodedEventsOf } from './decoded-events.js';
export { ConcurrencyConflict, StoredEventInvalid } from './errors.js';
export {
  EventStore,
  decodeStored,
  type AppendOutcome,
  type Decision,
  type EventContext,
  type ExecuteOptions,
  type Folded,
  type Reducer,
  type StoredEvent,
} from './event-store.js';
export {
  DOMAIN_STREAM_PREFIXES,
  runSubscription,
  type RunningSubscription,
  type SubscriptionOptions,
} from './subscription.js';
export { EventStoreModule } from './event-store.module.js';
export {
  DRIVE_AGAIN,
  StreamDriver,
  type DriveStep,
  type DriveTurn,
  type StreamDriverOptions,
} from './stream-driver.js';
