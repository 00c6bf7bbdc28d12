/**
 * The registry of every event and command: the @DomainEvent and @Command class decorators record each
 * class's name, schema version and category or target as its module loads (the barrel loads them all),
 * and upcasters are recorded per (type, fromVersion).
 * Must never accept two classes under one name, a name that is not a single NATS subject token, or a
 * definition that cannot name its own stream: these fail loudly at import time, before any I/O.
 */
import { getMetadataStorage } from 'class-validator';
import { STREAM_CATEGORIES, isStreamCategory, type StreamCategory } from './categories.js';
import { ContractViolation, type ContractIssue } from './errors.js';
import { COMMAND_TARGETS, type CommandTarget } from './vocabulary.js';
import { PATTERNS, type ContractClass } from './validation.js';

// ---------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------

export interface DomainEventOptions {
  /** Past tense, PascalCase, unique across all categories: it is the event type in the store. */
  readonly type: string;
  /** The schema version; bump it (and add an upcaster) whenever the class's rules change. */
  readonly version: number;
  readonly category: StreamCategory;
}

export interface EventDefinition<T extends object = object> extends DomainEventOptions {
  readonly eventClass: ContractClass<T>;
}

const eventsByType = new Map<string, EventDefinition>();
const eventsByClass = new Map<ContractClass, EventDefinition>();

/**
 * Registers a class as an event:
 * `@DomainEvent({ type: 'BootRequested', version: 1, category: 'instance' })`
 */
export function DomainEvent(options: DomainEventOptions): (target: ContractClass) => void {
  return (target) => {
    const { type, version, category } = options;
    const issues = [
      ...nameIssues('type', type),
      ...versionIssues(version),
      ...(eventsByType.has(type) ? [issue('type', `${type} is already registered by another class`)] : []),
      ...(eventsByClass.has(target) ? [issue('type', `class ${target.name} is already registered`)] : []),
    ];
    if (!isStreamCategory(category)) {
      issues.push(issue('category', `must be one of: ${Object.keys(STREAM_CATEGORIES).join(', ')}`));
    } else if (!declaresProperty(target, STREAM_CATEGORIES[category].idProperty)) {
      const { idProperty } = STREAM_CATEGORIES[category];
      issues.push(
        issue(idProperty, `${category} events must declare a validated ${idProperty}: it names the stream`),
      );
    }
    failIfAny(type, version, issues, 'registration of an event class');
    const definition: EventDefinition = { type, version, category, eventClass: target };
    eventsByType.set(type, definition);
    eventsByClass.set(target, definition);
  };
}

/** The definition of an event type or class; an unknown one is a ContractViolation. */
export function definitionOf<T extends object>(typeOrClass: string | ContractClass<T>): EventDefinition<T> {
  const definition =
    typeof typeOrClass === 'string' ? eventsByType.get(typeOrClass) : eventsByClass.get(typeOrClass);
  if (definition === undefined) {
    const name = typeof typeOrClass === 'string' ? typeOrClass : typeOrClass.name;
    throw new ContractViolation(name, null, [issue('type', 'is not a registered event type')]);
  }
  // The map pairs each class with its own definition, so the class's instance type is T.
  return definition as EventDefinition<T>;
}

export function isEventType(type: string): boolean {
  return eventsByType.has(type);
}

/** The type name of an event instance; a plain object or an unregistered class is a ContractViolation. */
export function eventTypeOf(event: object): string {
  const eventClass = classOf(event);
  const definition = eventClass === undefined ? undefined : eventsByClass.get(eventClass);
  if (definition === undefined) {
    throw new ContractViolation(eventClass?.name ?? 'object', null, [
      issue(
        '(root)',
        'is not an instance of a registered event class (build it with build(EventClass, data))',
      ),
    ]);
  }
  return definition.type;
}

/** Every registered event, sorted by type: for the fingerprint test, samples and docs. */
export function eventDefinitions(): readonly EventDefinition[] {
  return [...eventsByType.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/**
 * Checks, at import time, that a category's catalog is keyed by each class's registered type and that each
 * class belongs to that category, and returns it unchanged. The catalog gives code a typed union of events
 * (see KnownEvent) without a second list of names that could drift.
 */
export function eventCatalog<const C extends Readonly<Record<string, ContractClass>>>(
  category: StreamCategory,
  classes: C,
): C {
  for (const [key, eventClass] of Object.entries(classes)) {
    const definition = definitionOf(eventClass);
    const issues = [
      ...(definition.type === key
        ? []
        : [issue('type', `is catalogued as ${key} but registered as ${definition.type}`)]),
      ...(definition.category === category
        ? []
        : [issue('category', `is ${definition.category}, not ${category}`)]),
    ];
    failIfAny(key, definition.version, issues, `the ${category} event catalog`);
  }
  return classes;
}

// ---------------------------------------------------------------------------------------------------------
// Upcasters: a stored event is never rewritten; reading it turns version N data into N+1, step by step.
// ---------------------------------------------------------------------------------------------------------

/** Plain JSON data of one event at one schema version. */
export type EventData = Record<string, unknown>;

/** Turns the data of version `fromVersion` into the data of `fromVersion + 1`. Must be pure. */
export type Upcaster = (data: EventData) => EventData;

const upcasters = new Map<string, Map<number, Upcaster>>();

/**
 * Registers the step from `fromVersion` to `fromVersion + 1` of an event type. Register it beside the event
 * class, in the module that defines the class, so loading the class loads its history too.
 */
export function registerUpcaster(type: string, fromVersion: number, upcast: Upcaster): void {
  const steps = upcasters.get(type) ?? new Map<number, Upcaster>();
  const current = eventsByType.get(type)?.version;
  const issues = [
    ...versionIssues(fromVersion),
    ...(steps.has(fromVersion)
      ? [issue('fromVersion', `an upcaster from v${fromVersion} is already registered`)]
      : []),
    ...(current !== undefined && fromVersion >= current
      ? [issue('fromVersion', `must be below the current version v${current}`)]
      : []),
  ];
  failIfAny(type, fromVersion, issues, 'registration of an upcaster');
  steps.set(fromVersion, upcast);
  upcasters.set(type, steps);
}

export function upcasterFor(type: string, fromVersion: number): Upcaster | undefined {
  return upcasters.get(type)?.get(fromVersion);
}

// ---------------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------------

export interface CommandOptions {
  /** Imperative, PascalCase, unique: it is the last token of the command's NATS subject. */
  readonly name: string;
  readonly version: number;
  readonly target: CommandTarget;
  /** The class of the reply, for request/reply commands; domain commands decided in-process have none. */
  readonly reply?: () => ContractClass;
}

export interface CommandDefinition<T extends object = object> extends CommandOptions {
  readonly commandClass: ContractClass<T>;
}

const commandsByName = new Map<string, CommandDefinition>();
const commandsByClass = new Map<ContractClass, CommandDefinition>();

/**
 * Registers a class as a command:
 * `@Command({ name: 'AuthorizeConsole', version: 1, target: 'compute' })`
 */
export function Command(options: CommandOptions): (target: ContractClass) => void {
  return (target) => {
    const { name, version, target: handledBy } = options;
    const issues = [
      ...nameIssues('name', name),
      ...versionIssues(version),
      ...(commandsByName.has(name) ? [issue('name', `${name} is already registered by another class`)] : []),
      ...(commandsByClass.has(target) ? [issue('name', `class ${target.name} is already registered`)] : []),
      ...(COMMAND_TARGETS.includes(handledBy)
        ? []
        : [issue('target', `must be one of: ${COMMAND_TARGETS.join(', ')}`)]),
      // The compute agent serving several hosts checks that a command is for a host it owns.
      ...(handledBy === 'compute' && !declaresProperty(target, 'host')
        ? [issue('host', 'compute commands must declare a validated host: it addresses the agent')]
        : []),
    ];
    failIfAny(name, version, issues, 'registration of a command class');
    const definition: CommandDefinition = { ...options, commandClass: target };
    commandsByName.set(name, definition);
    commandsByClass.set(target, definition);
  };
}

export function commandDefinitionOf<T extends object>(
  nameOrClass: string | ContractClass<T>,
): CommandDefinition<T> {
  const definition =
    typeof nameOrClass === 'string' ? commandsByName.get(nameOrClass) : commandsByClass.get(nameOrClass);
  if (definition === undefined) {
    const name = typeof nameOrClass === 'string' ? nameOrClass : nameOrClass.name;
    throw new ContractViolation(name, null, [issue('name', 'is not a registered command')]);
  }
  return definition as CommandDefinition<T>;
}

/** The command of a command instance; a plain object or an unregistered class is a ContractViolation. */
export function commandDefinitionOfInstance(command: object): CommandDefinition {
  return commandDefinitionOf(classOf(command) ?? 'object');
}

/** The class an instance was made by; undefined for objects without a constructor (Object.create(null)). */
export function classOf(instance: object): ContractClass | undefined {
  const prototype = Object.getPrototypeOf(instance) as { readonly constructor?: unknown } | null;
  const constructor = prototype?.constructor;
  return typeof constructor === 'function' ? (constructor as ContractClass) : undefined;
}

/** The command whose `reply` is this class; an undeclared reply class is a ContractViolation. */
export function commandAnsweredBy(replyClass: ContractClass): CommandDefinition {
  for (const definition of commandsByName.values()) {
    if (definition.reply?.() === replyClass) return definition;
  }
  throw new ContractViolation(replyClass.name, null, [
    issue('(root)', 'is not the declared reply of any command'),
  ]);
}

export function commandDefinitions(): readonly CommandDefinition[] {
  return [...commandsByName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------------------

function issue(path: string, problem: string): ContractIssue {
  return { path, problems: [problem] };
}

function nameIssues(path: string, name: string): ContractIssue[] {
  return PATTERNS.pascalCase.test(name) && name.length <= 64
    ? []
    : [
        issue(
          path,
          'must be PascalCase letters and digits, at most 64 characters (it is a NATS subject token)',
        ),
      ];
}

function versionIssues(version: number): ContractIssue[] {
  return Number.isSafeInteger(version) && version >= 1 ? [] : [issue('version', 'must be an integer >= 1')];
}

function failIfAny(
  contract: string,
  version: number,
  issues: readonly ContractIssue[],
  context: string,
): void {
  if (issues.length > 0) throw new ContractViolation(contract, version, issues, { context });
}

/** Whether the class declares any class-validator rule on the property (property decorators run first). */
function declaresProperty(target: ContractClass, property: string): boolean {
  return getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .some((metadata) => metadata.propertyName === property);
}
