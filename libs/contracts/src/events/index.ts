/**
 * Every event, loaded (and so registered) together, and the typed unions code switches on.
 * Must never hold definitions itself: one file per stream category, re-exported here.
 */
import type { DecodedEvent, EventUnion } from '../codec.js';
import { CONSOLE_EVENTS } from './console.events.js';
import { DOMAIN_EVENTS } from './domain.events.js';
import { FLAVOR_EVENTS } from './flavor.events.js';
import { FLOATINGIP_EVENTS } from './floatingip.events.js';
import { HOST_EVENTS } from './host.events.js';
import { IMAGE_EVENTS } from './image.events.js';
import { INSTANCE_EVENTS } from './instance.events.js';
import { KEYPAIR_EVENTS } from './keypair.events.js';
import { NETWORK_EVENTS } from './network.events.js';
import { PROJECT_EVENTS } from './project.events.js';
import { QUOTA_EVENTS } from './quota.events.js';
import { ROLE_EVENTS } from './role.events.js';
import { ROUTER_EVENTS } from './router.events.js';
import { SECGROUP_EVENTS } from './secgroup.events.js';
import { SERVERGROUP_EVENTS } from './servergroup.events.js';
import { TOKEN_EVENTS } from './token.events.js';
import { USER_EVENTS } from './user.events.js';

export * from './console.events.js';
export * from './domain.events.js';
export * from './flavor.events.js';
export * from './floatingip.events.js';
export * from './host.events.js';
export * from './image.events.js';
export * from './instance.events.js';
export * from './keypair.events.js';
export * from './network.events.js';
export * from './project.events.js';
export * from './quota.events.js';
export * from './role.events.js';
export * from './router.events.js';
export * from './secgroup.events.js';
export * from './servergroup.events.js';
export * from './token.events.js';
export * from './user.events.js';
export * from './values.js';

/** Every event class by type name. */
export const EVENT_CATALOG = {
  ...INSTANCE_EVENTS,
  ...HOST_EVENTS,
  ...CONSOLE_EVENTS,
  ...DOMAIN_EVENTS,
  ...PROJECT_EVENTS,
  ...USER_EVENTS,
  ...ROLE_EVENTS,
  ...TOKEN_EVENTS,
  ...IMAGE_EVENTS,
  ...FLAVOR_EVENTS,
  ...KEYPAIR_EVENTS,
  ...SERVERGROUP_EVENTS,
  ...QUOTA_EVENTS,
  ...NETWORK_EVENTS,
  ...SECGROUP_EVENTS,
  ...ROUTER_EVENTS,
  ...FLOATINGIP_EVENTS,
} as const;

/** Decoded instance events: `switch (event.type) { case 'BootRequested': event.data.flavor ... }`. */
export type InstanceEvent = EventUnion<typeof INSTANCE_EVENTS>;
export type HostEvent = EventUnion<typeof HOST_EVENTS>;
export type ConsoleEvent = EventUnion<typeof CONSOLE_EVENTS>;
export type IdentityDomainEvent = EventUnion<typeof DOMAIN_EVENTS>;
export type ProjectEvent = EventUnion<typeof PROJECT_EVENTS>;
export type UserEvent = EventUnion<typeof USER_EVENTS>;
export type RoleEvent = EventUnion<typeof ROLE_EVENTS>;
export type TokenEvent = EventUnion<typeof TOKEN_EVENTS>;
export type ImageEvent = EventUnion<typeof IMAGE_EVENTS>;
export type FlavorEvent = EventUnion<typeof FLAVOR_EVENTS>;
export type KeypairEvent = EventUnion<typeof KEYPAIR_EVENTS>;
export type ServerGroupEvent = EventUnion<typeof SERVERGROUP_EVENTS>;
export type QuotaEvent = EventUnion<typeof QUOTA_EVENTS>;
export type NetworkEvent = EventUnion<typeof NETWORK_EVENTS>;
export type SecurityGroupEvent = EventUnion<typeof SECGROUP_EVENTS>;
export type RouterEvent = EventUnion<typeof ROUTER_EVENTS>;
export type FloatingIpEvent = EventUnion<typeof FLOATINGIP_EVENTS>;
export type KnownEvent = EventUnion<typeof EVENT_CATALOG>;

/** Whether a decoded event is one of the catalogued types; narrows it to the discriminated union. */
export function isKnownEvent(event: DecodedEvent): event is KnownEvent {
  return (
    Object.hasOwn(EVENT_CATALOG, event.type) &&
    event.data instanceof EVENT_CATALOG[event.type as keyof typeof EVENT_CATALOG]
  );
}
