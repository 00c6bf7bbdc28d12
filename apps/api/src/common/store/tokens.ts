/**
 * Injection tokens for what the API is given rather than builds: its configuration, the event store
 * client, the clock, and the ports other teams implement (compute RPC, host liveness).
 */
export const API_CONFIG = Symbol('ApiConfig');
export const EVENT_STORE_CLIENT = Symbol('EventStoreDBClient');
export const CLOCK = Symbol('Clock');

/** Now, as the API sees it; tests pass a controllable one to expire tokens without waiting. */
export type Clock = () => Date;
