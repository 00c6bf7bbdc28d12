/**
 * Every stream name and NATS subject, derived from the registered definitions: a name is typed once (in
 * its decorator) and everything else is computed here, by one function per kind of name.
 * Must never build a name from an unchecked id: an id with a `.`, `*`, `>` or whitespace would address the
 * wrong NATS subjects, and a malformed stream suffix would create a stream nobody reads.
 */
import { STREAM_CATEGORIES, isStreamCategory, type StreamCategory } from './categories.js';
import { ContractViolation } from './errors.js';
import { commandDefinitionOf, definitionOf, eventTypeOf } from './registry.js';
import { PATTERNS, type ContractClass } from './validation.js';
import type { CommandTarget } from './vocabulary.js';

/** The root of every Nimbus subject, so one NATS account can carry other traffic beside it. */
export const SUBJECT_ROOT = 'nimbus';
export const EVENT_SUBJECT_PREFIX = `${SUBJECT_ROOT}.evt`;
export const COMMAND_SUBJECT_PREFIX = `${SUBJECT_ROOT}.cmd`;

/**
 * The NATS key-value bucket of compute agents' heartbeats: one key per host (its name), holding only
 * its last beat. Not a fact for the event store (whether an agent is alive now is no part of any
 * instance's history), but kept by JetStream so a restarted reader knows each host's last beat.
 */
export const HEARTBEAT_BUCKET = 'nimbus_heartbeats';

/**
 * The NATS key-value bucket of leases: who drives each hypervisor host (`host.<name>`) and which
 * relay is the active one (`relay`). A lease lives as long as its holder renews it within the
 * bucket's age limit; the server, not a holder's clock, forgets one that was not renewed.
 */
export const LEASE_BUCKET = 'nimbus_leases';
/** The key of the relay's lease in LEASE_BUCKET. */
export const RELAY_LEASE_KEY = 'relay';

/** The JetStream stream the relay publishes every stored event into. */
export const EVENTS_STREAM = 'NIMBUS_EVENTS';
/** The subjects EVENTS_STREAM captures: every event subject and nothing else. */
export const EVENTS_STREAM_SUBJECTS = `${EVENT_SUBJECT_PREFIX}.>`;

/** `instance-<uuid>`, `host-<name>`, `console-<sha256>`; the id is checked against its category's shape. */
export function streamFor(category: StreamCategory, id: string): string {
  const spec = STREAM_CATEGORIES[category];
  if (!spec.idPattern.test(id)) {
    throw new ContractViolation(`${category} stream`, null, [
      { path: spec.idProperty, problems: [`must be ${spec.idDescription}`] },
    ]);
  }
  return `${category}-${id}`;
}

/** The stream an event belongs in, from its category and the id property that category names. */
export function streamOf(event: object): string {
  const { category } = definitionOf(eventTypeOf(event));
  const id: unknown = Reflect.get(event, STREAM_CATEGORIES[category].idProperty);
  return streamFor(category, typeof id === 'string' ? id : '');
}

/** The part of a stream name before its first dash (all of it when there is none), unchecked. */
export function categoryPart(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

/** The inverse of streamFor, for readers of `$all` that meet a stream name. */
export function parseStreamName(stream: string): { readonly category: StreamCategory; readonly id: string } {
  const dash = stream.indexOf('-');
  const category = categoryPart(stream);
  const id = stream.slice(dash + 1);
  if (dash < 0 || !isStreamCategory(category) || !STREAM_CATEGORIES[category].idPattern.test(id)) {
    throw new ContractViolation('stream name', null, [
      { path: '(root)', problems: ['is not <category>-<id> for a known category and a valid id'] },
    ]);
  }
  return { category, id };
}

/** `nimbus.evt.<category>.<Type>`: the subject the relay publishes an event type on. */
export function subjectFor(event: string | ContractClass): string {
  const { category, type } = definitionOf(event);
  return `${EVENT_SUBJECT_PREFIX}.${category}.${type}`;
}

/** `nimbus.evt.<category>.*`: every event type of one category, for a consumer's filter subject. */
export function categorySubjects(category: StreamCategory): string {
  return `${EVENT_SUBJECT_PREFIX}.${category}.*`;
}

/**
 * `nimbus.cmd.<target>.<Name>`, or `nimbus.cmd.compute.<host>.<Name>` for compute commands: the agent that
 * serves a host listens on that host's subjects, so a request reaches the one agent that owns the host.
 */
export function commandSubject(command: string | ContractClass, host?: string): string {
  const { name, target } = commandDefinitionOf(command);
  return `${targetPrefix(name, target, host)}.${name}`;
}

/** Every command subject of a target (and host, for compute): what an agent or service subscribes to. */
export function commandSubjects(target: CommandTarget, host?: string): string {
  return `${targetPrefix(target, target, host)}.*`;
}

function targetPrefix(contract: string, target: CommandTarget, host: string | undefined): string {
  if (target !== 'compute') {
    if (host !== undefined) {
      throw new ContractViolation(contract, null, [
        { path: 'host', problems: [`is only for compute commands, not ${target}`] },
      ]);
    }
    return `${COMMAND_SUBJECT_PREFIX}.${target}`;
  }
  if (host === undefined || !PATTERNS.hostName.test(host)) {
    throw new ContractViolation(contract, null, [
      { path: 'host', problems: ['must be the host name of the agent to address (one lowercase DNS label)'] },
    ]);
  }
  return `${COMMAND_SUBJECT_PREFIX}.compute.${host}`;
}

/**
 * The prefix of the compute agents' member keys in LEASE_BUCKET (`agent.<agent id>`): an agent holds
 * its own while it takes a share of the hosts, and writes the hosts it can drive into it.
 */
export const AGENT_MEMBER_PREFIX = 'agent.';

/** The key of a host's lease in LEASE_BUCKET. */
export function hostLeaseKey(host: string): string {
  return `host.${heartbeatKey(host)}`;
}

/** A host's key in HEARTBEAT_BUCKET: its name, which must be one lowercase DNS label. */
export function heartbeatKey(host: string): string {
  if (!PATTERNS.hostName.test(host)) {
    throw new ContractViolation('heartbeat', null, [
      { path: 'host', problems: ['must be one lowercase DNS label'] },
    ]);
  }
  return host;
}
