/**
 * The public API of libs/contracts (imported as `#libs/contracts`): every event and command with its
 * rules, the envelope, the codec, and the naming of streams and subjects.
 * Must never export anything that performs I/O: this library is pure, so every app and test can load it.
 * Importing it registers every definition (the event and command modules run their decorators on load).
 */
export * from './categories.js';
export * from './codec.js';
export * from './command-codec.js';
export * from './commands/index.js';
export { build, type Plain } from './conformance.js';
export * from './envelope.js';
export * from './errors.js';
export * from './events/index.js';
export * from './fingerprint.js';
export * from './naming.js';
export {
  DomainEvent,
  Command,
  commandAnsweredBy,
  commandDefinitionOf,
  commandDefinitions,
  definitionOf,
  eventCatalog,
  eventDefinitions,
  eventTypeOf,
  isEventType,
  registerUpcaster,
  type CommandDefinition,
  type CommandOptions,
  type DomainEventOptions,
  type EventData,
  type EventDefinition,
  type Upcaster,
} from './registry.js';
export * from './validation.js';
export * from './vocabulary.js';
