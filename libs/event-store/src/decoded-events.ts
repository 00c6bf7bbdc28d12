/**
 * Events decoded once per process and store, however many readers meet them. A boot's events are
 * read by the projection, the audit relay, the bus relay, the cluster view and every fold of the
 * stream; each read used to check the event against its contract again, and that check is most of
 * what reading costs. An event in a store never changes (its stream and revision name it for good,
 * and its id is checked too), so the verdict on one read holds for every later read of it.
 *
 * A decoded event is shared by every reader that meets it, so it is frozen, data and metadata, to
 * the last nested value: a reader that tried to change one would throw rather than change it for
 * the others. Only events that passed are kept; one that fails is decoded (and refused) every time.
 * The newest `capacity` events are kept, the least recently read going first.
 */
import type { DecodedEvent } from '#libs/contracts';

/** What a reader hands over of a recorded event to name it. */
export interface EventIdentity {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
}

/** About a few minutes of a busy cloud's events: enough for every reader of an event to meet it. */
const DEFAULT_CAPACITY = 4_096;

export class DecodedEvents {
  private readonly entries = new Map<string, { readonly id: string; readonly event: DecodedEvent }>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get size(): number {
    return this.entries.size;
  }

  /** The event decoded by `decode` on its first read here, frozen; the same object on every later one. */
  decode(recorded: EventIdentity, decode: () => DecodedEvent): DecodedEvent {
    const key = `${recorded.revision}@${recorded.streamId}`;
    const kept = this.entries.get(key);
    if (kept !== undefined && kept.id === recorded.id) {
      // Read again: to the back of the queue, as the most recently read.
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept.event;
    }
    const event = deepFreeze(decode());
    this.entries.set(key, { id: recorded.id, event });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return event;
  }
}

const byClient = new WeakMap<object, DecodedEvents>();

/** The decoded events of the store a client talks to (one client, one store). */
export function decodedEventsOf(client: object): DecodedEvents {
  let events = byClient.get(client);
  if (events === undefined) {
    events = new DecodedEvents();
    byClient.set(client, events);
  }
  return events;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
