/**
 * Every event, loaded (and so registered) together, and the typed unions code switches on.
 * Must never hold definitions itself: one file per stream category, re-exported here.
 */
import type { DecodedEvent, EventUnion } from '../codec.js';
import { CONSOLE_EVENTS } from './console.events.js';
import { HOST_EVENTS } from './host.events.js';
import { INSTANCE_EVENTS } from './instance.events.js';

export * from './console.events.js';
export * from './host.events.js';
export * from './instance.events.js';
export * from './values.js';

/** Every event class by type name. */
export const EVENT_CATALOG = { ...INSTANCE_EVENTS, ...HOST_EVENTS, ...CONSOLE_EVENTS } as const;

/** Decoded instance events: `switch (event.type) { case 'BootRequested': event.data.flavor ... }`. */
export type InstanceEvent = EventUnion<typeof INSTANCE_EVENTS>;
export type HostEvent = EventUnion<typeof HOST_EVENTS>;
export type ConsoleEvent = EventUnion<typeof CONSOLE_EVENTS>;
export type KnownEvent = EventUnion<typeof EVENT_CATALOG>;

/** Whether a decoded event is one of the catalogued types; narrows it to the discriminated union. */
export function isKnownEvent(event: DecodedEvent): event is KnownEvent {
  return (
    Object.hasOwn(EVENT_CATALOG, event.type) &&
    event.data instanceof EVENT_CATALOG[event.type as keyof typeof EVENT_CATALOG]
  );
}
